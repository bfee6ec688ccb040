using Billing.Contracts;

namespace Billing.Invoicing.Invoices;

public static class InvoiceStatus
{
    public const string Draft = "Draft";
}

/// <summary>One line per SKU and pricing model: exact GPU-seconds, the GPU-hours they make, price and rounded amount.</summary>
public sealed record InvoiceLine(string Sku, PricingModel Pricing, decimal GpuSeconds, decimal QuantityGpuHours, decimal UnitPrice, decimal Amount);

/// <summary>The draft was re-rated from usage; it replaces the lines and total wholesale.</summary>
public sealed record InvoiceDrafted(
    Guid InvoiceId, string TenantId, string Period, string Currency, IReadOnlyList<InvoiceLine> Lines, decimal Total, DateTimeOffset DraftedAt);

/// <summary>The invoice as read (inline snapshot of its stream).</summary>
public sealed record Invoice(
    Guid Id, string TenantId, string Period, string Currency, string Status, IReadOnlyList<InvoiceLine> Lines, decimal Total, DateTimeOffset UpdatedAt)
{
    public static Guid IdFor(string tenantId, string period) => Billing.ServiceDefaults.DeterministicGuid.Create($"invoice:{tenantId}:{period}");

    public static Invoice Create(InvoiceDrafted drafted) =>
        new(drafted.InvoiceId, drafted.TenantId, drafted.Period, drafted.Currency, InvoiceStatus.Draft, drafted.Lines, drafted.Total, drafted.DraftedAt);

    public Invoice Apply(InvoiceDrafted drafted) => Create(drafted);
}
