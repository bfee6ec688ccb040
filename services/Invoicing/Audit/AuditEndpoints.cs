using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.Invoicing.Invoices;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Invoicing.Audit;

public static class AuditEndpoints
{
    public static void MapAudit(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/reconciliation", ReconcileAsync).RequireAuthorization(p => p.RequireRole(Roles.Finance, Roles.Ops)).Produces<ReconciliationReport>();
        endpoints.MapGet("/v1/reconciliation/runs", RunsAsync).RequireAuthorization(p => p.RequireRole(Roles.Finance, Roles.Ops)).Produces<List<ReconciliationRun>>();
        endpoints.MapPost("/v1/ops/invoices/{invoiceId:guid}/verify", VerifyAsync).RequireAuthorization(Policies.Ops).Produces<VerificationReport>();
    }

    private static async Task<IResult> ReconcileAsync([AsParameters] PeriodRequest request, Reconciliation reconciliation, HttpContext http) =>
        Results.Ok(await reconciliation.ReportAsync(request.Period!, http.RequestAborted));

    /// <summary>The scheduled reconciliations of a closed month, newest first.</summary>
    private static async Task<IResult> RunsAsync([AsParameters] PeriodRequest request, IQuerySession session, HttpContext http) =>
        Results.Ok(await session.Query<ReconciliationRun>().Where(r => r.Period == request.Period).OrderByDescending(r => r.RanAt).Take(100).ToListAsync(http.RequestAborted));

    private static async Task<IResult> VerifyAsync(Guid invoiceId, InvoiceVerification verification, HttpContext http) =>
        await verification.VerifyAsync(invoiceId, http.RequestAborted) is { } report ? Results.Ok(report) : Problems.NotFound($"No invoice '{invoiceId}'.");
}
