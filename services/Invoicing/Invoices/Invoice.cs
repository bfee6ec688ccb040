using Billing.Contracts;

namespace Billing.Invoicing.Invoices;

public static class InvoiceStatus
{
    public const string Draft = "Draft";
}

/// <summary>What a line charges for.</summary>
public enum Charge
{
    /// <summary>On-demand usage at the on-demand price in force at each window's start.</summary>
    OnDemand,

    /// <summary>Spot usage at the spot price in force at each window's start.</summary>
    Spot,

    /// <summary>Reserved usage within the commitment: already paid by the commitment line.</summary>
    ReservedCovered,

    /// <summary>Reserved usage beyond the committed GPUs in a window, at the on-demand price.</summary>
    ReservedOverage,

    /// <summary>The commitment itself: committed GPUs × hours of the period it runs, used or not.</summary>
    Commitment,
}

/// <summary>
/// One line per SKU and charge: exact GPU-seconds, the GPU-hours they make, the (GPU-hour weighted)
/// unit price, and the amount rounded once.
/// </summary>
public sealed record InvoiceLine(string Sku, Charge Charge, PricingModel Pricing, decimal GpuSeconds, decimal QuantityGpuHours, decimal UnitPrice, decimal Amount);

/// <summary>The draft was re-rated from usage; it replaces the lines and total wholesale.</summary>
public sealed record InvoiceDrafted(
    Guid InvoiceId, string TenantId, string Period, string Currency, IReadOnlyList<InvoiceLine> Lines, decimal Total, DateTimeOffset DraftedAt);

/// <summary>The invoice as read (inline snapshot of its stream).</summary>
public sealed record Invoice(
    Guid Id, string TenantId, string Period, string Currency, string Status, IReadOnlyList<InvoiceLine> Lines, decimal Total, DateTimeOffset UpdatedAt)
{
    public static Guid IdFor(string tenantId, string period) => Billing.ServiceDefaults.StreamIds.Invoice(tenantId, period);

    public static Invoice Create(InvoiceDrafted drafted) =>
        new(drafted.InvoiceId, drafted.TenantId, drafted.Period, drafted.Currency, InvoiceStatus.Draft, drafted.Lines, drafted.Total, drafted.DraftedAt);

    public Invoice Apply(InvoiceDrafted drafted) => Create(drafted);
}
