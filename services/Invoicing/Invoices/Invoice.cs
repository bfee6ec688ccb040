using System.Text.Json.Serialization;
using Billing.Contracts;

namespace Billing.Invoicing.Invoices;

/// <summary>
/// Where an invoice is in its life. Stored and served by name ("Draft", "Finalized", "Issued"): Marten
/// keeps enums as strings and the API's JSON writes them as strings, so documents stored when this was a
/// string still read, and the API's answers do not change.
/// </summary>
public enum InvoiceStatus
{
    /// <summary>Re-rated while its month runs (and until its close, or while its rating fails at the close).</summary>
    Draft,

    /// <summary>Its lines are final; it is issued in the same transaction.</summary>
    Finalized,

    /// <summary>It has its number and never changes again.</summary>
    Issued,
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
/// <remarks>
/// <see cref="AdjustsPeriod"/> names the issued period a late-usage adjustment belongs to;
/// <see cref="HealthCreditGpuSeconds"/> are the leased GPU-seconds not billed because a GPU or node was
/// unhealthy (shown, never charged). <see cref="EnergyWh"/> and <see cref="MeanUtilizationPct"/> are
/// informational, never priced nor stored: filled in when the invoice is read (<see cref="InvoiceEnergy"/>).
/// </remarks>
public sealed record InvoiceLine(
    string Sku, Charge Charge, PricingModel Pricing, decimal GpuSeconds, decimal QuantityGpuHours, decimal UnitPrice, decimal Amount,
    string? AdjustsPeriod = null, decimal HealthCreditGpuSeconds = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? EnergyWh = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? MeanUtilizationPct = null);

/// <summary>The draft was re-rated from usage; it replaces the lines and total wholesale.</summary>
public sealed record InvoiceDrafted(
    Guid InvoiceId, string TenantId, string Period, string Currency, IReadOnlyList<InvoiceLine> Lines, decimal Total, DateTimeOffset DraftedAt);

/// <summary>The period closed: the lines are final.</summary>
public sealed record InvoiceFinalized(Guid InvoiceId, DateTimeOffset FinalizedAt);

/// <summary>The invoice got its number and was issued; it never changes again.</summary>
public sealed record InvoiceIssued(Guid InvoiceId, string Number, DateTimeOffset IssuedAt);

/// <summary>The invoice as read (inline snapshot of its stream).</summary>
public sealed record Invoice(
    Guid Id, string TenantId, string Period, string Currency, InvoiceStatus Status, IReadOnlyList<InvoiceLine> Lines, decimal Total, DateTimeOffset UpdatedAt,
    string? Number = null, DateTimeOffset? IssuedAt = null)
{
    public static Guid IdFor(string tenantId, string period) => Billing.ServiceDefaults.StreamIds.Invoice(tenantId, period);

    public static Invoice Create(InvoiceDrafted drafted) =>
        new(drafted.InvoiceId, drafted.TenantId, drafted.Period, drafted.Currency, InvoiceStatus.Draft, drafted.Lines, drafted.Total, drafted.DraftedAt);

    public Invoice Apply(InvoiceDrafted drafted) =>
        this with { Lines = drafted.Lines, Total = drafted.Total, Currency = drafted.Currency, UpdatedAt = drafted.DraftedAt };

    public Invoice Apply(InvoiceFinalized finalized) => this with { Status = InvoiceStatus.Finalized, UpdatedAt = finalized.FinalizedAt };

    public Invoice Apply(InvoiceIssued issued) => this with { Status = InvoiceStatus.Issued, Number = issued.Number, IssuedAt = issued.IssuedAt, UpdatedAt = issued.IssuedAt };
}

/// <summary>The next number of a year's gapless sequence went to <see cref="InvoiceId"/>.</summary>
public sealed record InvoiceNumberAssigned(int Year, int Sequence, Guid InvoiceId);

/// <summary>A year's invoice numbers as read: the last one given.</summary>
public sealed record InvoiceNumberSequence(Guid Id, int Year, int Last)
{
    public static Guid StreamFor(int year) => Billing.ServiceDefaults.DeterministicGuid.Create($"invoice-numbers:{year}");

    public static string Format(int year, int sequence) => $"INV-{year}-{sequence:D6}";

    public static InvoiceNumberSequence Create(InvoiceNumberAssigned assigned) => new(StreamFor(assigned.Year), assigned.Year, assigned.Sequence);

    public InvoiceNumberSequence Apply(InvoiceNumberAssigned assigned) => this with { Last = assigned.Sequence };
}
