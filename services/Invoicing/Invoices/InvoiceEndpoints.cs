using System.Security.Claims;
using Billing.Invoicing.Exports;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Invoicing.Invoices;

public static class InvoiceEndpoints
{
    public const int MaxPageSize = 500;

    public static void MapInvoices(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/invoices").RequireAuthorization(policy => policy.RequireRole(Roles.Finance, Roles.Ops, Roles.Tenant));
        group.MapGet("/", ListAsync);
        group.MapGet("/{invoiceId:guid}", GetAsync);
        group.MapGet("/{invoiceId:guid}/lines/{lineNumber:int}/explain", InvoiceExplanation.ExplainAsync);
        endpoints.MapGet("/v1/exports/focus", FocusAsync).RequireAuthorization(p => p.RequireRole(Roles.Finance, Roles.Ops));
    }

    private static async Task<IResult> ListAsync(
        ClaimsPrincipal user, IQuerySession session, string? period, string? status, string? tenantId, int? page, int? pageSize)
    {
        if (period is not null && !BillingPeriod.IsValid(period))
        {
            return Problems.Invalid("'period' is a month, YYYY-MM.");
        }

        if (page is < 1 || pageSize is < 1 or > MaxPageSize)
        {
            return Problems.Invalid($"'page' starts at 1; 'pageSize' is 1 to {MaxPageSize}.");
        }

        // By name only: Enum.TryParse would also take "1" or "Draft,Issued".
        var wanted = Enum.GetValues<InvoiceStatus>().Cast<InvoiceStatus?>().FirstOrDefault(s => string.Equals(s.ToString(), status, StringComparison.OrdinalIgnoreCase));
        if (status is not null && wanted is null)
        {
            return Problems.Invalid($"'status' is one of {string.Join(", ", Enum.GetNames<InvoiceStatus>())}.");
        }

        var tenant = user.ReadableTenant(tenantId);
        if (user.IsInRole(Roles.Tenant) && tenant is null)
        {
            return Results.Ok(Array.Empty<Invoice>());
        }

        var invoices = session.Query<Invoice>().AsQueryable();
        if (tenant is not null)
        {
            invoices = invoices.Where(i => i.TenantId == tenant);
        }

        if (period is not null)
        {
            invoices = invoices.Where(i => i.Period == period);
        }

        if (wanted is { } statusWanted)
        {
            invoices = invoices.Where(i => i.Status == statusWanted);
        }

        // In 64 bits: page × size passes int (a negative OFFSET); a page past int's reach holds nothing.
        var size = pageSize ?? 100;
        var offset = ((page ?? 1) - 1L) * size;
        if (offset > int.MaxValue)
        {
            return Results.Ok(Array.Empty<InvoiceView>());
        }

        var list = await invoices.OrderBy(i => i.Period).ThenBy(i => i.TenantId).Skip((int)offset).Take(size).ToListAsync();
        return Results.Ok(list.Select(InvoiceView.Of));
    }

    /// <summary>JSON by default; <c>Accept: text/csv</c> or <c>application/pdf</c> for those forms.</summary>
    private static async Task<IResult> GetAsync(Guid invoiceId, ClaimsPrincipal user, IQuerySession session, HttpContext http)
    {
        var invoice = await session.LoadAsync<Invoice>(invoiceId);
        if (invoice is null || user.ReadableTenant(invoice.TenantId) != invoice.TenantId)
        {
            return Problems.NotFound($"No invoice '{invoiceId}'.");
        }

        var view = InvoiceView.Of(invoice);
        var name = view.Number ?? $"draft-{view.TenantId}-{view.Period}";
        return http.Request.Accepts("application/pdf") ? Results.File(InvoicePdf.ToPdf(view), "application/pdf", $"{name}.pdf")
            : http.Request.Accepts("text/csv") ? Results.File(System.Text.Encoding.UTF8.GetBytes(InvoiceCsv.ToCsv(view)), "text/csv", $"{name}.csv")
            : Results.Ok(view);
    }

    private static async Task<IResult> FocusAsync(string? period, IQuerySession session)
    {
        if (!BillingPeriod.IsValid(period))
        {
            return Problems.Invalid("'period' is required: a month, YYYY-MM.");
        }

        var invoices = await session.Query<Invoice>().Where(i => i.Period == period).OrderBy(i => i.TenantId).ToListAsync();
        return Results.File(System.Text.Encoding.UTF8.GetBytes(FocusExport.ToCsv(invoices.Select(InvoiceView.Of))), "text/csv", $"focus-{period}.csv");
    }
}

public sealed record InvoiceView(
    Guid InvoiceId, string? Number, string TenantId, string Period, string Currency, InvoiceStatus Status, IReadOnlyList<InvoiceLine> Lines, decimal Total,
    DateTimeOffset UpdatedAt, DateTimeOffset? IssuedAt)
{
    public static InvoiceView Of(Invoice i) => new(i.Id, i.Number, i.TenantId, i.Period, i.Currency, i.Status, i.Lines, i.Total, i.UpdatedAt, i.IssuedAt);
}
