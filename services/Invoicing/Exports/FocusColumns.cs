using Billing.Invoicing.Invoices;

namespace Billing.Invoicing.Exports;

/// <summary>A column of the export: its FOCUS name, its metadata data type, and its value in a row (null: a FOCUS null).</summary>
public sealed record FocusColumn(string Name, string DataType, Func<FocusRow, string?> Value);

/// <summary>
/// The columns of the FOCUS 1.2 cost-and-usage export, in the order written: every Mandatory column,
/// the Recommended and Conditional ones that apply to a GPU cloud with regions, resources, SKUs,
/// list prices, dynamic (spot) prices and commitments, then the platform's own <c>x_</c> columns.
/// Left out, as FOCUS allows: AvailabilityZone (no zones), BillingAccountType and SubAccountType (one
/// type each), CapacityReservation* (a commitment reserves no capacity), PricingCurrency* (prices are
/// in the billing currency), SkuPriceDetails and Tags (none kept).
/// </summary>
public static class FocusColumns
{
    public const string GpuHours = "GPU-Hours";
    public const string GpuSeconds = "GPU-Seconds";

    private const string Number = "DECIMAL";
    private const string Text = "STRING";
    private const string Timestamp = "DATETIME";

    public static IReadOnlyList<FocusColumn> All { get; } =
    [
        new("BilledCost", Number, r => Exact(r.Charge.BilledCost)),
        new("BillingAccountId", Text, r => r.Invoice.TenantId),
        new("BillingAccountName", Text, r => r.TenantName ?? r.Invoice.TenantId),
        new("BillingCurrency", Text, r => r.Invoice.Currency),
        new("BillingPeriodEnd", Timestamp, r => ExportText.Rfc3339(ExportText.MonthStart(r.Invoice.Period).AddMonths(1))),
        new("BillingPeriodStart", Timestamp, r => ExportText.Rfc3339(ExportText.MonthStart(r.Invoice.Period))),
        new("ChargeCategory", Text, r => IsPurchase(r) ? "Purchase" : "Usage"),
        new("ChargeClass", Text, r => r.IsCorrection ? "Correction" : null),
        new("ChargeDescription", Text, Description),
        new("ChargeFrequency", Text, r => IsPurchase(r) ? "Recurring" : "Usage-Based"),
        new("ChargePeriodEnd", Timestamp, r => ExportText.Rfc3339(r.Charge.End)),
        new("ChargePeriodStart", Timestamp, r => ExportText.Rfc3339(r.Charge.Start)),
        new("CommitmentDiscountCategory", Text, r => r.Charge.Commitment is null ? null : "Usage"),
        new("CommitmentDiscountId", Text, r => r.Charge.Commitment?.Id.ToString()),
        new("CommitmentDiscountName", Text, r => r.Charge.Commitment is { } c
            ? $"{c.GpuCount} × {c.Sku} reserved {c.StartsAt.UtcDateTime:yyyy-MM-dd} to {c.EndsAt.UtcDateTime:yyyy-MM-dd}"
            : null),
        new("CommitmentDiscountQuantity", Number, r => HasCommitmentQuantity(r) ? Computed(r.Charge.PricingQuantity) : null),
        new("CommitmentDiscountStatus", Text, r => r.Charge.Commitment is null || IsPurchase(r) ? null : r.Charge.Unused ? "Unused" : "Used"),
        new("CommitmentDiscountType", Text, r => r.Charge.Commitment is null ? null : "Reserved GPU"),
        new("CommitmentDiscountUnit", Text, r => HasCommitmentQuantity(r) ? GpuHours : null),
        new("ConsumedQuantity", Number, r => IsConsumption(r) ? Exact(r.Charge.Metered?.Quantity ?? r.Charge.GpuSeconds) : null),
        new("ConsumedUnit", Text, r => IsConsumption(r) ? r.MeterUnit ?? GpuSeconds : null),
        new("ContractedCost", Number, r => Computed(r.Charge.ContractedCost)),
        new("ContractedUnitPrice", Number, r => Exact(r.Charge.ContractedUnitPrice)),
        new("EffectiveCost", Number, r => Exact(r.Charge.EffectiveCost)),
        new("InvoiceId", Text, r => r.Invoice.Number ?? r.Invoice.Id.ToString()),
        new("InvoiceIssuerName", Text, _ => ExportText.PlatformName),
        new("ListCost", Number, r => Computed(r.Charge.ListCost)),
        new("ListUnitPrice", Number, r => Exact(r.Charge.ListUnitPrice)),
        new("PricingCategory", Text, PricingCategory),
        new("PricingQuantity", Number, r => Computed(r.Charge.PricingQuantity)),
        new("PricingUnit", Text, PricingUnit),
        new("ProviderName", Text, _ => ExportText.PlatformName),
        new("PublisherName", Text, _ => ExportText.PlatformName),
        new("RegionId", Text, r => r.Region),
        new("RegionName", Text, r => r.Region),
        new("ResourceId", Text, r => (r.Charge.LeaseId ?? r.Charge.Commitment?.Id)?.ToString()),
        new("ResourceName", Text, _ => null), // leases and commitments have no display name, and FOCUS forbids repeating the id
        new("ResourceType", Text, r => r.Charge.LeaseId is not null ? "GPU Lease" : r.Charge.Commitment is not null ? "GPU Commitment" : null),
        new("ServiceCategory", Text, r => r.Charge.Metered is null ? "Compute" : "AI and Machine Learning"),
        new("ServiceName", Text, r => r.Charge.Metered is null ? "GPU Compute" : "Hosted Models"),
        new("ServiceSubcategory", Text, r => r.Charge.Metered is null ? "Virtual Machines" : "Generative AI"),
        new("SkuId", Text, r => r.Charge.Sku),
        new("SkuMeter", Text, r => r.Charge.Metered?.Meter ?? (IsPurchase(r) ? "GPU Commitment" : "GPU Usage")),
        new("SkuPriceId", Text, SkuPriceId),
        new("SubAccountId", Text, r => r.Invoice.TenantId),
        new("SubAccountName", Text, r => r.TenantName ?? r.Invoice.TenantId),
        new("x_Charge", Text, r => r.Charge.Charge.ToString()),
        new("x_AdjustsPeriod", Text, r => r.AdjustsPeriod),
        new("x_EnergyWh", Number, r => r.Energy is { } energy ? Exact(energy.EnergyWh) : null),
        new("x_MeanUtilizationPct", Number, r => r.Energy?.MeanUtilizationPct?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];

    private static bool IsPurchase(FocusRow row) => row.Charge.Charge == Charge.Commitment && !row.Charge.Unused;

    /// <summary>Metered usage: not a purchase, and not the unused part of a commitment (FOCUS: ConsumedQuantity null there).</summary>
    private static bool IsConsumption(FocusRow row) => !IsPurchase(row) && !row.Charge.Unused;

    /// <summary>FOCUS: on the commitment's usage and purchase rows, except corrections.</summary>
    private static bool HasCommitmentQuantity(FocusRow row) => row.Charge.Commitment is not null && !row.IsCorrection;

    private static string PricingCategory(FocusRow row) => row.Charge.Charge switch
    {
        Charge.Spot => "Dynamic",
        Charge.ReservedCovered => "Committed",
        Charge.Commitment when row.Charge.Unused => "Committed",
        _ => "Standard", // on-demand, overage at the on-demand price, and buying a commitment (FOCUS 1.1+)
    };

    /// <summary>GPU-hours; for a meter, its unit per the amount its price is for (<c>1000000 Tokens</c>).</summary>
    private static string PricingUnit(FocusRow row) => row.Charge.Metered is { } metered
        ? metered.UnitsPerPrice == 1 ? row.MeterUnit ?? "Units" : $"{metered.UnitsPerPrice:0} {row.MeterUnit ?? "Units"}"
        : GpuHours;

    private static string SkuPriceId(FocusRow row) => row.Charge.Charge switch
    {
        Charge.Metered => row.Charge.Sku,
        Charge.Spot => $"{row.Charge.Sku}:spot",
        Charge.ReservedCovered or Charge.Commitment => $"{row.Charge.Sku}:reserved",
        _ => $"{row.Charge.Sku}:on-demand",
    };

    private static string Description(FocusRow row)
    {
        var what = row.Charge switch
        {
            { Unused: true } => "reserved commitment, unused",
            { Charge: Charge.OnDemand } => "on-demand usage",
            { Charge: Charge.Spot } => "spot usage",
            { Charge: Charge.ReservedCovered } => "reserved usage covered by the commitment",
            { Charge: Charge.ReservedOverage } => "reserved usage beyond the commitment, at the on-demand price",
            _ => "reserved commitment",
        };
        var text = row.Charge.Metered is { } metered ? $"{metered.Meter} usage of {metered.Group}, tier {metered.Tier + 1}" : $"{row.Charge.Sku} {what}";
        return row.AdjustsPeriod is null ? text : $"Adjustment for {row.AdjustsPeriod}: {text}";
    }

    private static string Exact(decimal value) => ExportText.Exact(value);

    /// <summary>A quotient or product without the trailing zeros decimal arithmetic leaves (30.874, not 30.8740000000000000000); the value is unchanged.</summary>
    private static string Computed(decimal value) => ExportText.Exact(value / 1.0000000000000000000000000000m);
}
