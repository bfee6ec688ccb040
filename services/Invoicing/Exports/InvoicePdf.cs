using System.Globalization;
using Billing.Invoicing.Invoices;
using PdfSharp;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace Billing.Invoicing.Exports;

/// <summary>
/// An invoice as a printable A4 PDF: the platform and invoice header, one table row per line (continued on
/// further pages, header repeated, when the lines do not fit), the total, and page numbers. Money is printed
/// as plain invariant decimals exactly as held (1.63, -0.50), so the text can be searched and extracted.
/// </summary>
public static class InvoicePdf
{
    public static byte[] ToPdf(InvoiceView invoice)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        DejaVuFontResolver.EnsureInstalled();

        using var document = new PdfDocument();
        var number = ExportText.NumberOrDraft(invoice);
        document.Info.Title = $"{ExportText.PlatformName} invoice {number} ({invoice.TenantId}, {invoice.Period})";
        document.Info.Author = ExportText.PlatformName;
        document.Info.Subject = $"Invoice {number} for {invoice.TenantId}, period {invoice.Period}";

        new Writer(document, invoice, number).Write();

        using var stream = new MemoryStream();
        document.Save(stream, closeStream: false);
        return stream.ToArray();
    }

    private sealed class Writer(PdfDocument document, InvoiceView invoice, string number)
    {
        private const double Margin = 50;
        private const double FooterHeight = 24;
        private const double RowHeight = 16;
        private const double CellPadding = 4;

        // Instance fields, not static: fonts resolve when created, and that must come after
        // DejaVuFontResolver.EnsureInstalled() (ToPdf calls it before it creates a writer).
        private readonly XFont titleFont = new(DejaVuFontResolver.FamilyName, 20, XFontStyleEx.Bold);
        private readonly XFont headingFont = new(DejaVuFontResolver.FamilyName, 15, XFontStyleEx.Bold);
        private readonly XFont labelFont = new(DejaVuFontResolver.FamilyName, 9, XFontStyleEx.Bold);
        private readonly XFont bodyFont = new(DejaVuFontResolver.FamilyName, 9, XFontStyleEx.Regular);
        private readonly XFont smallFont = new(DejaVuFontResolver.FamilyName, 7.5, XFontStyleEx.Regular);
        private readonly XFont totalFont = new(DejaVuFontResolver.FamilyName, 11, XFontStyleEx.Bold);
        private static readonly XBrush Grey = new XSolidBrush(XColor.FromArgb(90, 90, 90));
        private static readonly XBrush Shade = new XSolidBrush(XColor.FromArgb(242, 242, 242));
        private static readonly XPen Rule = new(XColor.FromArgb(120, 120, 120), 0.6);

        private static readonly Column[] Columns =
        [
            new("SKU", 103, Right: false),
            new("Charge", 98, Right: false),
            new("Adjusts period", 84, Right: false),
            new("GPU-hours", 74, Right: true),
            new("Unit price", 64, Right: true),
            new("Amount", 72, Right: true),
        ];

        private XGraphics? page;
        private double y;
        private double width;
        private double bottom;

        public void Write()
        {
            NewPage(first: true);
            TableHeader();
            if (invoice.Lines.Count == 0)
            {
                Room(RowHeight);
                page!.DrawString("No charges in this period.", bodyFont, Grey, Margin + CellPadding, y + 11.5);
                y += RowHeight;
            }

            for (var i = 0; i < invoice.Lines.Count; i++)
            {
                Row(invoice.Lines[i], shaded: i % 2 == 1);
            }

            Total();
            page!.Dispose();
            Footers();
        }

        private void NewPage(bool first)
        {
            page?.Dispose();
            var pdfPage = document.AddPage();
            pdfPage.Size = PageSize.A4;
            page = XGraphics.FromPdfPage(pdfPage);
            width = pdfPage.Width.Point - (2 * Margin);
            bottom = pdfPage.Height.Point - Margin - FooterHeight;
            y = Margin;
            if (first)
            {
                Header();
            }
            else
            {
                page.DrawString($"{ExportText.PlatformName} · Invoice {number} · {invoice.TenantId} · {invoice.Period} (continued)", labelFont, XBrushes.Black, Margin, y + 9);
                y += 24;
            }
        }

        private void Header()
        {
            var g = page!;
            g.DrawString(ExportText.PlatformName, titleFont, XBrushes.Black, Margin, y + 18);
            g.DrawString($"Invoice {number}", headingFont, XBrushes.Black, new XRect(Margin, y, width, 24), XStringFormats.TopRight);
            y += 32;
            g.DrawLine(Rule, Margin, y, Margin + width, y);
            y += 10;

            var period = PeriodText(invoice.Period);
            (string, string)[] details =
            [
                ("Tenant", invoice.TenantId),
                ("Period", period),
                ("Status", invoice.Status.ToString()),
                ("Issued", invoice.IssuedAt is { } issued ? issued.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "not issued"),
                ("Currency", invoice.Currency),
                ("Invoice ID", invoice.InvoiceId.ToString()),
                ("Updated", invoice.UpdatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)),
            ];
            foreach (var (label, value) in details)
            {
                g.DrawString(label, labelFont, XBrushes.Black, Margin, y + 10);
                g.DrawString(value, bodyFont, XBrushes.Black, Margin + 70, y + 10);
                y += 14;
            }

            if (invoice.Number is null)
            {
                y += 4;
                g.DrawString("Draft: not issued yet; lines and amounts may still change.", bodyFont, Grey, Margin, y + 10);
                y += 14;
            }

            y += 14;
        }

        private void TableHeader()
        {
            var g = page!;
            var x = Margin;
            foreach (var column in Columns)
            {
                Cell(g, column.Title, labelFont, XBrushes.Black, x, column);
                x += column.Width;
            }

            y += RowHeight;
            g.DrawLine(Rule, Margin, y, Margin + width, y);
            y += 2;
        }

        private void Row(InvoiceLine line, bool shaded)
        {
            Room(RowHeight);
            var g = page!;
            if (shaded)
            {
                g.DrawRectangle(Shade, Margin, y, width, RowHeight);
            }

            string[] cells =
            [
                line.Sku,
                ExportText.ChargeLabel(line.Charge),
                line.AdjustsPeriod ?? string.Empty,
                line.QuantityGpuHours.ToString("0.0000", CultureInfo.InvariantCulture),
                ExportText.Exact(line.UnitPrice),
                ExportText.Exact(line.Amount),
            ];
            var x = Margin;
            for (var i = 0; i < Columns.Length; i++)
            {
                Cell(g, cells[i], bodyFont, XBrushes.Black, x, Columns[i]);
                x += Columns[i].Width;
            }

            y += RowHeight;
            if (line.EnergyWh is { } energy)
            {
                // Informational, under its line: a column more would crowd the priced ones.
                Room(RowHeight);
                var utilization = line.MeanUtilizationPct is { } mean ? $", mean utilization {mean.ToString("0.0", CultureInfo.InvariantCulture)} %" : string.Empty;
                if (shaded)
                {
                    page!.DrawRectangle(Shade, Margin, y, width, RowHeight);
                }

                page!.DrawString($"Energy {ExportText.Exact(energy)} Wh{utilization} (informational, not charged)", bodyFont, Grey, Margin + CellPadding, y + 11.5);
                y += RowHeight;
            }
        }

        private void Total()
        {
            const string note1 = "GPU-hours are shown to 4 decimals; each amount is computed from the exact GPU-seconds and rounded once,";
            const string note2 = "half away from zero, to the currency's minor unit. The total is the sum of the line amounts.";
            const string note3 = "Adjustment lines bill usage of the named, already issued period that arrived after it was issued.";
            Room(4 + 22 + 12 + (3 * 11));
            var g = page!;
            y += 4;
            g.DrawLine(Rule, Margin, y, Margin + width, y);
            g.DrawString($"Total ({invoice.Currency})", totalFont, XBrushes.Black, Margin + CellPadding, y + 16);
            g.DrawString(ExportText.Exact(invoice.Total), totalFont, XBrushes.Black, new XRect(Margin, y + 4, width - CellPadding, 16), XStringFormats.TopRight);
            y += 22;
            g.DrawLine(Rule, Margin, y, Margin + width, y);
            y += 12;
            foreach (var note in (string[])[note1, note2, note3])
            {
                g.DrawString(note, smallFont, Grey, Margin, y + 8);
                y += 11;
            }
        }

        private void Footers()
        {
            var count = document.PageCount;
            for (var i = 0; i < count; i++)
            {
                var pdfPage = document.Pages[i];
                using var g = XGraphics.FromPdfPage(pdfPage, XGraphicsPdfPageOptions.Append);
                var text = $"{ExportText.PlatformName} · Invoice {number} · Page {i + 1} of {count}";
                g.DrawString(text, smallFont, Grey, new XRect(Margin, pdfPage.Height.Point - Margin - 10, pdfPage.Width.Point - (2 * Margin), 12), XStringFormats.TopCenter);
            }
        }

        /// <summary>Starts a new page, with the table header again, unless the current one has that much room left.</summary>
        private void Room(double height)
        {
            if (y + height > bottom)
            {
                NewPage(first: false);
                TableHeader();
            }
        }

        /// <summary>
        /// One table cell on the current row. A number too wide for its column is set smaller (never cut);
        /// text too wide is cut with an ellipsis.
        /// </summary>
        private void Cell(XGraphics g, string text, XFont font, XBrush brush, double x, Column column)
        {
            var box = new XRect(x + CellPadding, y, column.Width - (2 * CellPadding), RowHeight);
            var measured = g.MeasureString(text, font).Width;
            if (measured > box.Width)
            {
                if (column.Right)
                {
                    var size = Math.Max(5, Math.Floor(font.Size * box.Width / measured * 10) / 10);
                    font = new XFont(DejaVuFontResolver.FamilyName, size, font.Bold ? XFontStyleEx.Bold : XFontStyleEx.Regular);
                }
                else
                {
                    text = Fit(g, text, font, box.Width);
                }
            }

            g.DrawString(text, font, brush, box, column.Right ? XStringFormats.CenterRight : XStringFormats.CenterLeft);
        }

        private static string Fit(XGraphics g, string text, XFont font, double width)
        {
            if (g.MeasureString(text, font).Width <= width)
            {
                return text;
            }

            var cut = text.Length;
            while (cut > 0 && g.MeasureString(text[..cut] + "…", font).Width > width)
            {
                cut--;
            }

            return text[..cut] + "…";
        }

        /// <summary>"2026-11" as "2026-11 (2026-11-01 to 2026-11-30)".</summary>
        private static string PeriodText(string period)
        {
            if (!DateTime.TryParseExact(period, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start))
            {
                return period;
            }

            var last = start.AddMonths(1).AddDays(-1);
            return $"{period} ({start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)} to {last.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)})";
        }
    }

    private sealed record Column(string Title, double Width, bool Right);
}
