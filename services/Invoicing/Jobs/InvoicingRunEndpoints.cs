using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Validation;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Invoicing.Jobs;

public static class InvoicingRunEndpoints
{
    public const int MaxRuns = 100;

    public static void MapInvoicingRuns(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/v1/invoicing/runs", ListAsync).RequireAuthorization(p => p.RequireRole(Roles.Finance, Roles.Ops)).Produces<List<InvoicingRun>>();

    /// <summary>The draft job's latest runs, newest first: of a period when given, only those with failures with <c>failed=true</c>.</summary>
    private static async Task<IResult> ListAsync(string? period, bool? failed, IQuerySession session, HttpContext http)
    {
        if (period is not null && !InputRules.IsPeriod(period))
        {
            return Problems.Invalid("The query is invalid.", new Dictionary<string, string[]> { ["period"] = ["A month, YYYY-MM, in the years 2000 to 2199."] });
        }

        var runs = session.Query<InvoicingRun>().AsQueryable();
        if (period is not null)
        {
            runs = runs.Where(r => r.Periods.Contains(period));
        }

        if (failed is true)
        {
            runs = runs.Where(r => r.Unrated > 0);
        }

        // Ids are version 7 (creation order): they order runs that started at the same clock reading.
        return Results.Ok(await runs.OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.Id).Take(MaxRuns).ToListAsync(http.RequestAborted));
    }
}
