using System.Globalization;
using Billing.Invoicing.Invoices;
using CsvHelper;

namespace Billing.Invoicing.Exports;

/// <summary>
/// Invoices as a FOCUS (FinOps Open Cost and Usage Specification) cost-and-usage CSV: one row per invoice
/// line, FOCUS column names, invariant culture, times RFC 3339 UTC, decimals written exactly as computed.
/// Columns beyond FOCUS carry the <c>x_</c> prefix the specification reserves for custom columns.
/// </summary>
public static class FocusExport
{
    public const string GpuHourUnit = "GPU-Hour";

    /// <summary>The pricing unit of a row whose cost cannot be split exactly into price × GPU-hours: the line is the unit.</summary>
    public const string LineUnit = "Line";

    private const string ServiceName = "GPU Compute";

    private static readonly string[] Header =
    [
        "BillingAccountId", "BillingAccountName", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd",
        "ChargeCategory", "ChargeClass", "ChargeFrequency", "ChargeDescription", "PricingCategory",
        "BilledCost", "EffectiveCost", "ListCost", "ListUnitPrice", "ContractedCost", "ContractedUnitPrice",
        "PricingQuantity", "PricingUnit", "ConsumedQuantity", "ConsumedUnit",
        "SkuId", "ResourceId", "RegionId", "ServiceName", "ServiceCategory", "ProviderName", "PublisherName", "InvoiceIssuerName",
        "InvoiceId", "BillingCurrency", "x_Charge", "x_GpuSeconds",
    ];

    /// <param name="invoices">The invoices to export, in the order given; each line makes one row.</param>
    /// <param name="regionsBySku">The region of each SKU, for <c>RegionId</c>; a SKU not in it gets an empty region.</param>
    public static string ToCsv(IEnumerable<InvoiceView> invoices, IReadOnlyDictionary<string, string>? regionsBySku = null)
    {
        ArgumentNullException.ThrowIfNull(invoices);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = new CsvWriter(text, CultureInfo.InvariantCulture, leaveOpen: true))
        {
            foreach (var name in Header)
            {
                csv.WriteField(name);
            }

            csv.NextRecord();
            foreach (var invoice in invoices)
            {
                var billingStart = ExportText.MonthStart(invoice.Period);
                var invoiceId = invoice.Number ?? invoice.InvoiceId.ToString();
                foreach (var line in invoice.Lines)
                {
                    var chargeStart = line.AdjustsPeriod is null ? billingStart : ExportText.MonthStart(line.AdjustsPeriod);
                    var (quantity, unit, unitPrice) = Pricing(line);
                    var consumed = line.Charge == Charge.Commitment ? 0m : line.QuantityGpuHours;
                    var region = regionsBySku is not null && regionsBySku.TryGetValue(line.Sku, out var r) ? r : string.Empty;

                    csv.WriteField(invoice.TenantId);
                    csv.WriteField(invoice.TenantId);
                    csv.WriteField(ExportText.Rfc3339(billingStart));
                    csv.WriteField(ExportText.Rfc3339(billingStart.AddMonths(1)));
                    csv.WriteField(ExportText.Rfc3339(chargeStart));
                    csv.WriteField(ExportText.Rfc3339(chargeStart.AddMonths(1)));
                    csv.WriteField(ChargeCategory(line));
                    csv.WriteField(line.AdjustsPeriod is null ? string.Empty : "Correction");
                    csv.WriteField(line.Charge == Charge.Commitment ? "Recurring" : "Usage-Based");
                    csv.WriteField(ExportText.ChargeDescription(line));
                    csv.WriteField(PricingCategory(line.Charge));
                    var cost = ExportText.Exact(line.Amount);
                    csv.WriteField(cost); // BilledCost
                    csv.WriteField(cost); // EffectiveCost
                    csv.WriteField(cost); // ListCost
                    csv.WriteField(ExportText.Exact(unitPrice)); // ListUnitPrice
                    csv.WriteField(cost); // ContractedCost
                    csv.WriteField(ExportText.Exact(unitPrice)); // ContractedUnitPrice
                    csv.WriteField(ExportText.Exact(quantity));
                    csv.WriteField(unit);
                    csv.WriteField(ExportText.Exact(consumed));
                    csv.WriteField(GpuHourUnit);
                    csv.WriteField(line.Sku);
                    csv.WriteField(string.Empty); // ResourceId: lines aggregate every lease of a SKU and charge
                    csv.WriteField(region);
                    csv.WriteField(ServiceName);
                    csv.WriteField("Compute");
                    csv.WriteField(ExportText.PlatformName);
                    csv.WriteField(ExportText.PlatformName);
                    csv.WriteField(ExportText.PlatformName);
                    csv.WriteField(invoiceId);
                    csv.WriteField(invoice.Currency);
                    csv.WriteField(line.Charge.ToString());
                    csv.WriteField(ExportText.Exact(line.GpuSeconds));
                    csv.NextRecord();
                }
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// PricingQuantity, PricingUnit and ListUnitPrice of a line, chosen so that FOCUS's cost identity
    /// BilledCost = ListUnitPrice × PricingQuantity holds exactly on the row.
    /// </summary>
    /// <remarks>
    /// A line's amount is rounded once to the currency's minor unit while its GPU-hours are exact, so the
    /// line's own unit price (a GPU-hour weighted average rounded to 6 places) times its GPU-hours is not its
    /// amount. The row therefore keeps the exact GPU-hours as PricingQuantity and states the unit price that
    /// the billed amount implies, BilledCost / PricingQuantity, at full decimal precision (28-29 significant
    /// digits): any fewer digits would lose the identity for most lines. The quotient is then checked: its
    /// product with the quantity must give back BilledCost exactly in decimal arithmetic.
    /// Where it does not, the row is priced per line instead: PricingQuantity 1, PricingUnit "Line",
    /// ListUnitPrice = BilledCost. That happens when the quotient has no finite decimal form and its last digit
    /// shows in the product (lines of 0.1 GPU-hours or more, roughly one in six of them in random samples),
    /// when the quantity is 0 (an adjustment that moves money but no GPU-seconds), or when the quotient
    /// overflows. ConsumedQuantity still carries the GPU-hours, so no usage is lost from the export either way.
    /// </remarks>
    private static (decimal Quantity, string Unit, decimal UnitPrice) Pricing(InvoiceLine line)
    {
        var quantity = line.QuantityGpuHours;
        if (quantity != 0)
        {
            try
            {
                var unitPrice = line.Amount / quantity;
                if (unitPrice * quantity == line.Amount)
                {
                    return (quantity, GpuHourUnit, unitPrice);
                }
            }
            catch (OverflowException)
            {
                // A quantity so small that the price leaves decimal's range: priced per line below.
            }
        }

        return (1m, LineUnit, line.Amount);
    }

    private static string ChargeCategory(InvoiceLine line) =>
        line.AdjustsPeriod is not null ? "Adjustment" : line.Charge == Charge.Commitment ? "Purchase" : "Usage";

    private static string PricingCategory(Charge charge) => charge switch
    {
        Charge.OnDemand or Charge.ReservedOverage => "Standard",
        Charge.Spot => "Dynamic",
        Charge.ReservedCovered or Charge.Commitment => "Committed",
        _ => "Other",
    };
}
