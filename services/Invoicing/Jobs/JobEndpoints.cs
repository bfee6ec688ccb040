using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Invoicing.Jobs;

public static class JobEndpoints
{
    /// <summary>
    /// Registers the recurring jobs under constant ids (one place), and lets ops run one now; a run
    /// from here calls the same code Hangfire calls.
    /// </summary>
    public static void MapJobs(this IEndpointRouteBuilder endpoints)
    {
        endpoints.ServiceProvider.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<DraftInvoicesJob>(DraftInvoicesJob.Id, job => job.RunAsync(CancellationToken.None), Cron.Minutely());

        endpoints.MapPost("/v1/ops/jobs/{jobId}/run", async (string jobId, DraftInvoicesJob draft, [FromKeyedServices(BillingClock.Key)] TimeProvider time, HttpContext http) =>
        {
            if (jobId != DraftInvoicesJob.Id)
            {
                return Problems.NotFound($"No job '{jobId}'.");
            }

            await draft.RunAsync(http.RequestAborted);
            return Results.Ok(new { jobId, ranAt = time.GetUtcNow() });
        }).RequireAuthorization(Policies.Ops);
    }
}
