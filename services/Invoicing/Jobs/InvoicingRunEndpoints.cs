using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Validation;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Invoicing.Jobs;

/// <summary>The query of <c>GET /v1/invoicing/runs</c>: of a period when given, only runs with failures with <c>failed=true</c>.</summary>
public sealed record InvoicingRunsRequest(string? Period, bool? Failed);

public sealed class InvoicingRunsRequestValidator : AbstractValidator<InvoicingRunsRequest>
{
    public InvoicingRunsRequestValidator() => RuleFor(r => r.Period).Period().When(r => r.Period is not null);
}

public static class InvoicingRunEndpoints
{
    public const int MaxRuns = 100;

    public static void MapInvoicingRuns(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/v1/invoicing/runs", ListAsync).RequireAuthorization(p => p.RequireRole(Roles.Finance, Roles.Ops)).Produces<List<InvoicingRun>>();

    /// <summary>The draft job's latest runs, newest first.</summary>
    private static async Task<IResult> ListAsync([AsParameters] InvoicingRunsRequest request, IQuerySession session, HttpContext http)
    {
        var runs = session.Query<InvoicingRun>().AsQueryable();
        if (request.Period is { } period)
        {
            runs = runs.Where(r => r.Periods.Contains(period));
        }

        if (request.Failed is true)
        {
            runs = runs.Where(r => r.Unrated > 0);
        }

        // Ids are version 7 (creation order): they order runs that started at the same clock reading.
        return Results.Ok(await runs.OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.Id).Take(MaxRuns).ToListAsync(http.RequestAborted));
    }
}
