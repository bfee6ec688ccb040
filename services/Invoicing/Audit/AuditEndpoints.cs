using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.Invoicing.Invoices;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Billing.Invoicing.Audit;

public static class AuditEndpoints
{
    public static void MapAudit(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/reconciliation", ReconcileAsync).RequireAuthorization(p => p.RequireRole(Roles.Finance, Roles.Ops));
        endpoints.MapGet("/v1/reconciliation/runs", RunsAsync).RequireAuthorization(p => p.RequireRole(Roles.Finance, Roles.Ops));
        endpoints.MapPost("/v1/ops/invoices/{invoiceId:guid}/verify", VerifyAsync).RequireAuthorization(Policies.Ops);
    }

    private static async Task<Ok<ReconciliationReport>> ReconcileAsync([AsParameters] PeriodRequest request, Reconciliation reconciliation, HttpContext http) =>
        TypedResults.Ok(await reconciliation.ReportAsync(request.Period!, http.RequestAborted));

    /// <summary>The scheduled reconciliations of a closed month, newest first.</summary>
    private static async Task<Ok<IReadOnlyList<ReconciliationRun>>> RunsAsync([AsParameters] PeriodRequest request, IQuerySession session, HttpContext http) =>
        TypedResults.Ok(await session.Query<ReconciliationRun>().Where(r => r.Period == request.Period).OrderByDescending(r => r.RanAt).Take(100).ToListAsync(http.RequestAborted));

    private static async Task<Results<Ok<VerificationReport>, ProblemHttpResult>> VerifyAsync(Guid invoiceId, InvoiceVerification verification, HttpContext http) =>
        await verification.VerifyAsync(invoiceId, http.RequestAborted) is { } report ? TypedResults.Ok(report) : Problems.NotFound($"No invoice '{invoiceId}'.");
}
