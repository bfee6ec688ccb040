using System.Globalization;
using Billing.Invoicing.Invoices;
using CsvHelper;

namespace Billing.Invoicing.Exports;

/// <summary>
/// An invoice as CSV (RFC 4180, header row, invariant culture): one row per line and nothing else (no total
/// row: the total is the sum of <c>amount</c>). Decimals are written exactly as held, every digit of their scale.
/// <c>energyWh</c> and <c>meanUtilizationPct</c> are informational (empty where not measured), never charged.
/// </summary>
public static class InvoiceCsv
{
    private static readonly string[] Header =
    [
        "number", "invoiceId", "tenantId", "period", "status", "sku", "charge", "pricing", "adjustsPeriod",
        "gpuSeconds", "quantityGpuHours", "unitPrice", "amount", "currency", "energyWh", "meanUtilizationPct",
    ];

    public static string ToCsv(InvoiceView invoice)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = new CsvWriter(text, CultureInfo.InvariantCulture, leaveOpen: true))
        {
            foreach (var name in Header)
            {
                csv.WriteField(name);
            }

            csv.NextRecord();
            var number = ExportText.NumberOrDraft(invoice);
            var invoiceId = invoice.InvoiceId.ToString();
            foreach (var line in invoice.Lines)
            {
                csv.WriteField(number);
                csv.WriteField(invoiceId);
                csv.WriteField(invoice.TenantId);
                csv.WriteField(invoice.Period);
                csv.WriteField(invoice.Status.ToString());
                csv.WriteField(line.Sku);
                csv.WriteField(line.Charge.ToString());
                csv.WriteField(line.Pricing.ToString());
                csv.WriteField(line.AdjustsPeriod ?? string.Empty);
                csv.WriteField(ExportText.Exact(line.GpuSeconds));
                csv.WriteField(ExportText.Exact(line.QuantityGpuHours));
                csv.WriteField(ExportText.Exact(line.UnitPrice));
                csv.WriteField(ExportText.Exact(line.Amount));
                csv.WriteField(invoice.Currency);
                csv.WriteField(line.EnergyWh is { } energy ? ExportText.Exact(energy) : string.Empty);
                csv.WriteField(line.MeanUtilizationPct?.ToString(CultureInfo.InvariantCulture) ?? string.Empty);
                csv.NextRecord();
            }
        }

        return text.ToString();
    }
}
