using System.Globalization;
using Billing.Invoicing.Exports;
using Billing.Invoicing.Invoices;
using CsvHelper;

namespace Billing.Invoicing.Tests.Exports;

public sealed class Exporting_an_invoice_as_csv
{
    private static readonly string[] Columns =
    [
        "number", "invoiceId", "tenantId", "period", "status", "sku", "charge", "pricing", "adjustsPeriod",
        "gpuSeconds", "quantityGpuHours", "unitPrice", "amount", "currency", "energyWh", "meanUtilizationPct",
    ];

    [Fact]
    public void Each_line_becomes_one_row_with_its_exact_values_and_nothing_else()
    {
        var invoice = SampleInvoices.Issued();

        var rows = Read(InvoiceCsv.ToCsv(invoice), out var header);

        Assert.Equal(Columns, header);
        Assert.Equal(invoice.Lines.Count, rows.Count);
        foreach (var (row, line) in rows.Zip(invoice.Lines))
        {
            Assert.Equal("INV-2026-000042", row["number"]);
            Assert.Equal(invoice.InvoiceId.ToString(), row["invoiceId"]);
            Assert.Equal("tenant-acme", row["tenantId"]);
            Assert.Equal("2026-11", row["period"]);
            Assert.Equal("Issued", row["status"]);
            Assert.Equal(line.Sku, row["sku"]);
            Assert.Equal(line.Charge.ToString(), row["charge"]);
            Assert.Equal(line.Pricing.ToString(), row["pricing"]);
            Assert.Equal(line.AdjustsPeriod ?? string.Empty, row["adjustsPeriod"]);
            Assert.Equal(line.GpuSeconds.ToString(CultureInfo.InvariantCulture), row["gpuSeconds"]);
            Assert.Equal(line.QuantityGpuHours.ToString(CultureInfo.InvariantCulture), row["quantityGpuHours"]);
            Assert.Equal(line.UnitPrice.ToString(CultureInfo.InvariantCulture), row["unitPrice"]);
            Assert.Equal(line.Amount.ToString(CultureInfo.InvariantCulture), row["amount"]);
            Assert.Equal("USD", row["currency"]);
        }
    }

    [Fact]
    public void Decimals_are_written_with_every_digit_and_parse_back_to_the_same_values()
    {
        var invoice = SampleInvoices.Issued();

        var rows = Read(InvoiceCsv.ToCsv(invoice), out _);

        Assert.Equal("2.0001388888888888888888888889", rows[0]["quantityGpuHours"]); // 7200.5 / 3600, not rounded
        Assert.Equal("7200.5", rows[0]["gpuSeconds"]);
        Assert.Equal("1296.00", rows[5]["amount"]);
        Assert.Equal("-0.50", rows[6]["amount"]);
        Assert.Equal(invoice.Lines.Select(l => l.QuantityGpuHours), rows.Select(r => Number(r["quantityGpuHours"])));
        Assert.Equal(invoice.Lines.Select(l => l.Amount), rows.Select(r => Number(r["amount"])));
        Assert.Equal(invoice.Total, rows.Sum(r => Number(r["amount"])));
    }

    [Fact]
    public void A_draft_has_DRAFT_for_its_number()
    {
        var rows = Read(InvoiceCsv.ToCsv(SampleInvoices.Draft()), out _);

        Assert.All(rows, row => Assert.Equal("DRAFT", row["number"]));
        Assert.All(rows, row => Assert.Equal(SampleInvoices.DraftId.ToString(), row["invoiceId"]));
    }

    [Fact]
    public void Fields_with_commas_and_quotes_are_quoted_and_read_back_unchanged()
    {
        var line = SampleInvoices.EveryKindOfLine[0] with { Sku = "H100, \"SXM\"" };

        var rows = Read(InvoiceCsv.ToCsv(SampleInvoices.Issued([line])), out _);

        Assert.Equal("H100, \"SXM\"", Assert.Single(rows)["sku"]);
    }

    [Fact]
    public void An_invoice_without_lines_is_the_header_alone()
    {
        var rows = Read(InvoiceCsv.ToCsv(SampleInvoices.Issued([])), out var header);

        Assert.Equal(Columns, header);
        Assert.Empty(rows);
    }

    private static decimal Number(string text) => decimal.Parse(text, NumberStyles.Number, CultureInfo.InvariantCulture);

    private static List<Dictionary<string, string>> Read(string text, out string[] header)
    {
        using var csv = new CsvReader(new StringReader(text), CultureInfo.InvariantCulture);
        Assert.True(csv.Read());
        csv.ReadHeader();
        header = csv.HeaderRecord!;
        var rows = new List<Dictionary<string, string>>();
        while (csv.Read())
        {
            var row = new Dictionary<string, string>();
            foreach (var name in header)
            {
                row[name] = csv.GetField(name)!;
            }

            Assert.Equal(header.Length, csv.Parser.Count);
            rows.Add(row);
        }

        return rows;
    }
}
