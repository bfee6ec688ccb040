using System.Security.Claims;
using Billing.Invoicing.Exports;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Validation;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Invoicing.Invoices;

/// <summary>The query of <c>GET /v1/invoices</c>.</summary>
public sealed record InvoiceListRequest(string? Period, string? Status, string? TenantId, int? Page, int? PageSize);

public sealed class InvoiceListRequestValidator : AbstractValidator<InvoiceListRequest>
{
    public InvoiceListRequestValidator()
    {
        RuleFor(r => r.Period).Period().When(r => r.Period is not null);
        RuleFor(r => r.Status).OneOf<InvoiceListRequest, InvoiceStatus>();
        RuleFor(r => r.TenantId).Id().When(r => r.TenantId is not null);
        RuleFor(r => r.Page).InclusiveBetween(1, InvoiceEndpoints.MaxPage);
        RuleFor(r => r.PageSize).InclusiveBetween(1, InvoiceEndpoints.MaxPageSize);
    }
}

/// <summary>The query of the finance reports (<c>?period=YYYY-MM</c>, required).</summary>
public sealed record PeriodRequest(string? Period);

public sealed class PeriodRequestValidator : AbstractValidator<PeriodRequest>
{
    public PeriodRequestValidator() => RuleFor(r => r.Period).Period();
}

public static class InvoiceEndpoints
{
    public const int MaxPageSize = 500;

    /// <summary>Pages stop where the offset would outgrow what a query can skip.</summary>
    public const int MaxPage = 100_000;

    public static void MapInvoices(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/invoices").RequireAuthorization(policy => policy.RequireRole(Roles.Finance, Roles.Ops, Roles.Tenant));
        group.MapGet("/", ListAsync).Produces<IEnumerable<InvoiceView>>();
        group.MapGet("/{invoiceId:guid}", GetAsync).Offering(ContentNegotiation.Json, "text/csv", "application/pdf").Produces<InvoiceView>();
        group.MapGet("/{invoiceId:guid}/lines/{lineNumber:int}/explain", InvoiceExplanation.ExplainAsync).Produces<LineExplanation>();
    }

    private static async Task<IResult> ListAsync(ClaimsPrincipal user, IQuerySession session, [AsParameters] InvoiceListRequest request)
    {
        var tenant = user.ReadableTenant(request.TenantId);
        if (user.IsInRole(Roles.Tenant) && tenant is null)
        {
            return Results.Ok(Array.Empty<Invoice>());
        }

        var invoices = session.Query<Invoice>().AsQueryable();
        if (tenant is not null)
        {
            invoices = invoices.Where(i => i.TenantId == tenant);
        }

        if (request.Period is { } period)
        {
            invoices = invoices.Where(i => i.Period == period);
        }

        if (request.Status is not null)
        {
            var status = EnumText.ParseOr(request.Status, InvoiceStatus.Draft);
            invoices = invoices.Where(i => i.Status == status);
        }

        var size = request.PageSize ?? 100;
        var list = await invoices.OrderBy(i => i.Period).ThenBy(i => i.TenantId).Skip(((request.Page ?? 1) - 1) * size).Take(size).ToListAsync();
        return Results.Ok(list.Select(InvoiceView.Of));
    }

    /// <summary>JSON by default; <c>Accept: text/csv</c> or <c>application/pdf</c> for those forms.</summary>
    private static async Task<IResult> GetAsync(Guid invoiceId, ClaimsPrincipal user, IQuerySession session, InvoiceEnergy energy, HttpContext http)
    {
        var invoice = await session.LoadAsync<Invoice>(invoiceId);
        if (invoice is null || user.ReadableTenant(invoice.TenantId) != invoice.TenantId)
        {
            return Problems.NotFound($"No invoice '{invoiceId}'.");
        }

        var view = await energy.AddToAsync(InvoiceView.Of(invoice), http.RequestAborted);
        var name = view.Number ?? $"draft-{view.TenantId}-{view.Period}";
        return http.Negotiated() switch
        {
            "application/pdf" => Results.File(InvoicePdf.ToPdf(view), "application/pdf", $"{name}.pdf"),
            "text/csv" => Results.File(System.Text.Encoding.UTF8.GetBytes(InvoiceCsv.ToCsv(view)), "text/csv", $"{name}.csv"),
            _ => Results.Ok(view),
        };
    }
}

public sealed record InvoiceView(
    Guid InvoiceId, string? Number, string TenantId, string Period, string Currency, InvoiceStatus Status, IReadOnlyList<InvoiceLine> Lines, decimal Total,
    DateTimeOffset UpdatedAt, DateTimeOffset? IssuedAt)
{
    public static InvoiceView Of(Invoice i) => new(i.Id, i.Number, i.TenantId, i.Period, i.Currency, i.Status, i.Lines, i.Total, i.UpdatedAt, i.IssuedAt);
}
