using System.Diagnostics;
using System.Globalization;
using Billing.Contracts;
using Billing.Invoicing.Exports;
using Billing.Invoicing.Invoices;

namespace Billing.Invoicing.Tests.Exports;

/// <summary>Reads the PDFs back with pdftotext (poppler-utils; infra/tools.sh installs it).</summary>
public sealed class Exporting_an_invoice_as_pdf
{
    [Fact]
    public void The_text_holds_the_header_every_line_with_its_amount_and_the_total()
    {
        var invoice = SampleInvoices.Issued();

        var text = PdfText(InvoicePdf.ToPdf(invoice));

        Assert.Contains("GPU Cloud", text);
        Assert.Contains("Invoice INV-2026-000042", text);
        Assert.Contains("tenant-acme", text);
        Assert.Contains("2026-11", text);
        Assert.Contains("Issued", text);
        Assert.Contains("2026-12-01", text);
        AssertEveryLine(invoice, text);
        AssertTotal(invoice, text);
    }

    [Fact]
    public void A_draft_says_DRAFT_where_the_number_goes()
    {
        var text = PdfText(InvoicePdf.ToPdf(SampleInvoices.Draft()));

        Assert.Contains("Invoice DRAFT", text);
        Assert.Contains("not issued", text);
    }

    [Fact]
    public void Many_lines_continue_on_further_pages_and_none_is_lost()
    {
        var lines = Enumerable.Range(1, 150)
            .Select(i => new InvoiceLine($"SKU-{i:D3}", (Charge)(i % 5), PricingModel.OnDemand, i * 3600m + 0.5m, (i * 3600m + 0.5m) / 3600m, 1.5m, (i * 1.5m) + 0.01m))
            .ToList();
        var invoice = SampleInvoices.Issued(lines, number: "INV-2026-000777");

        var text = PdfText(InvoicePdf.ToPdf(invoice));

        var pages = text.Split('\f', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(pages.Length >= 3, $"150 lines on {pages.Length} page(s)");
        Assert.Contains($"Page {pages.Length} of {pages.Length}", text);
        Assert.All(pages, page => Assert.Contains("GPU-hours", page)); // the table header again on every page
        AssertEveryLine(invoice, text);
        AssertTotal(invoice, text);
    }

    [Fact]
    public void The_pdf_is_a_single_a4_document()
    {
        var pdf = InvoicePdf.ToPdf(SampleInvoices.Issued());

        Assert.StartsWith("%PDF-", System.Text.Encoding.ASCII.GetString(pdf, 0, 5));
        var path = WriteTemp(pdf);
        string info;
        try
        {
            info = Run("pdfinfo", path);
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Matches(@"(?m)^Pages:\s+1$", info);
        Assert.Matches(@"Page size:\s+595(\.\d+)? x 842 pts \(A4\)", info);
    }

    /// <summary>Each line's table row (found by its SKU and charge) holds its GPU-hours to 4 decimals, its unit price and its amount as whole words.</summary>
    private static void AssertEveryLine(InvoiceView invoice, string text)
    {
        var rows = text.Split('\n');
        foreach (var line in invoice.Lines)
        {
            var words = rows
                .Select(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(w => w.Length > 0 && w[0] == line.Sku)
                .ToList();
            Assert.Contains(words, w =>
                w.Contains(line.Amount.ToString(CultureInfo.InvariantCulture))
                && w.Contains(line.QuantityGpuHours.ToString("0.0000", CultureInfo.InvariantCulture))
                && w.Contains(line.UnitPrice.ToString(CultureInfo.InvariantCulture))
                && (line.AdjustsPeriod is null || w.Contains(line.AdjustsPeriod)));
        }
    }

    private static void AssertTotal(InvoiceView invoice, string text) =>
        Assert.Matches($@"Total \(USD\)\s+{invoice.Total.ToString(CultureInfo.InvariantCulture).Replace(".", @"\.", StringComparison.Ordinal)}\s*$",
            text.Split('\n').Single(l => l.Contains("Total (USD)", StringComparison.Ordinal)));

    internal static string PdfText(byte[] pdf)
    {
        var path = WriteTemp(pdf);
        try
        {
            return Run("pdftotext", "-layout", path, "-");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string WriteTemp(byte[] pdf)
    {
        var path = Path.Combine(Path.GetTempPath(), $"invoice-{Guid.NewGuid():N}.pdf");
        File.WriteAllBytes(path, pdf);
        return path;
    }

    private static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"'{program}' is not installed: run infra/tools.sh (Debian package poppler-utils).", e);
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), $"{program} did not finish in 30 s");
            Assert.True(process.ExitCode == 0, $"{program} exited {process.ExitCode}: {stderr.Result}");
            return stdout;
        }
    }
}
