using System.Globalization;
using Billing.Invoicing.Commitments;
using Billing.Invoicing.Invoices;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults.Pricing;
using CsvHelper;

namespace Billing.Invoicing.Exports;

/// <summary>The usage an invoice's lines were rated from: the period's windows as of that rating, and its commitments.</summary>
public sealed record FocusUsage(IReadOnlyList<MeteredWindow> Windows, IReadOnlyList<Commitment> Commitments);

/// <summary>
/// An issued period an invoice adjusts: its usage as the issued invoice was rated from it, its usage as
/// the adjustment lines were, and the issued invoice (null: the period had none).
/// </summary>
public sealed record FocusAdjusted(string Period, FocusUsage AsIssued, FocusUsage AsAdjusted, Invoice? Issued);

/// <summary>One invoice to export, with the usage behind its own lines and behind its adjustment lines (per period they adjust).</summary>
public sealed record FocusInvoice(Invoice Invoice, string? TenantName, FocusUsage Own, IReadOnlyList<FocusAdjusted> Adjusted);

/// <summary>
/// Invoices as a FOCUS 1.2 cost-and-usage CSV (<see cref="FocusMetadata"/> declares the version and
/// columns): rows per lease (or commitment) per UTC day per charge and price, invariant culture,
/// times <c>YYYY-MM-DDTHH:mm:ssZ</c>, decimals exactly as computed, nulls as empty fields.
/// </summary>
/// <remarks>
/// ListUnitPrice is the on-demand price of the SKU in force for the usage (also on spot rows: FOCUS 1.2
/// leaves spot list prices open, and the on-demand price is the one published list price);
/// ContractedUnitPrice is the rate paid (on-demand, spot, or the reserved rate of a commitment's
/// purchase; covered and unused usage keep the on-demand rate, as FOCUS excludes commitment discounts
/// from it). List and contracted costs are those prices × the exact GPU-hours. BilledCost is the
/// invoice line's amount, rounded once per line, shared over the line's rows in minor units (see
/// <see cref="FocusAllocation"/>), so an invoice's rows add up to its total exactly. Late usage of an
/// issued month is a <c>Correction</c> on the invoice that adjusts it: its billing period is that
/// invoice's, its charge periods the days of the month it adjusts.
/// </remarks>
public static class FocusExport
{
    /// <param name="regionsByLease">The region of the node each lease ran on; a lease not in it gets a null region.</param>
    /// <param name="meterUnits">What one unit of each meter is (by slug); a meter not in it counts <c>Units</c>.</param>
    public static IReadOnlyList<FocusRow> Rows(
        IEnumerable<FocusInvoice> invoices, PriceHistory prices, SpotPrices spot, IReadOnlyDictionary<Guid, string> regionsByLease,
        IReadOnlyDictionary<string, string>? meterUnits = null)
    {
        ArgumentNullException.ThrowIfNull(invoices);
        ArgumentNullException.ThrowIfNull(regionsByLease);
        var rows = new List<FocusRow>();
        foreach (var focus in invoices)
        {
            var invoice = focus.Invoice;
            string? Region(FocusCharge charge) => charge.LeaseId is { } lease ? regionsByLease.GetValueOrDefault(lease) : null;
            string? Unit(FocusCharge charge) => charge.Metered is { } metered ? meterUnits?.GetValueOrDefault(metered.Meter) ?? "Units" : null;
            var own = invoice.Lines.Where(l => l.AdjustsPeriod is null).ToList();
            rows.AddRange(FocusCharges.Of(invoice.Period, focus.Own.Windows, focus.Own.Commitments, own, prices, spot)
                .Select(c => new FocusRow(invoice, focus.TenantName, c, Region(c), MeterUnit: Unit(c))));
            foreach (var adjusted in focus.Adjusted.Where(a => invoice.Lines.Any(l => l.AdjustsPeriod == a.Period)))
            {
                rows.AddRange(FocusCharges.Adjustment(adjusted, invoice, prices, spot).Select(c => new FocusRow(invoice, focus.TenantName, c, Region(c), adjusted.Period, MeterUnit: Unit(c))));
            }
        }

        return rows;
    }

    public static string ToCsv(IEnumerable<FocusRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = new CsvWriter(text, CultureInfo.InvariantCulture, leaveOpen: true))
        {
            foreach (var column in FocusColumns.All)
            {
                csv.WriteField(column.Name);
            }

            csv.NextRecord();
            foreach (var row in rows)
            {
                foreach (var column in FocusColumns.All)
                {
                    csv.WriteField(column.Value(row) ?? string.Empty);
                }

                csv.NextRecord();
            }
        }

        return text.ToString();
    }
}
