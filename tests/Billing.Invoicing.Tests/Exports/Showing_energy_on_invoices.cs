using Billing.Contracts;
using Billing.Invoicing.Exports;
using Billing.Invoicing.Invoices;
using Billing.ServiceDefaults.GpuEnergy;
using Billing.Tests.Focus;

namespace Billing.Invoicing.Tests.Exports;

public sealed class Showing_energy_on_invoices
{
    /// <summary>An hour of one GPU at <paramref name="watts"/> and <paramref name="utilization"/> %, <paramref name="hours"/> times over.</summary>
    private static EnergySum Hours(decimal hours, decimal watts, decimal utilization) =>
        new(3600 * hours, 3600 * hours * watts, 3600 * hours * utilization, 3600 * hours);

    [Fact]
    public void Usage_lines_share_their_sku_and_pricing_energy_by_gpu_seconds_and_other_lines_get_none()
    {
        var energy = new Dictionary<(string, PricingModel), EnergySum>
        {
            [("H100", PricingModel.OnDemand)] = Hours(2, 400, 50),
            [("H100", PricingModel.Reserved)] = Hours(4, 300, 80),
            [("H100", PricingModel.Spot)] = Hours(1, 250, 0.5m).Add(Hours(1, 350, 0.6m)),
        };

        var lines = InvoiceEnergy.Apportion(SampleInvoices.EveryKindOfLine, energy);

        Assert.Equal<(string, Charge, decimal?, double?)>(
            [
                ("A100", Charge.OnDemand, null, null),                      // no energy read for it
                ("H100", Charge.OnDemand, 800m, 50),
                ("H100", Charge.Spot, 600m, 0.55),
                ("H100", Charge.ReservedCovered, 1200m * 5400 / 5760, 80), // 5,400 of the 5,760 reserved GPU-seconds
                ("H100", Charge.ReservedOverage, 1200m * 360 / 5760, 80),
                ("H100", Charge.Commitment, null, null),                    // bought, not used
                ("A100", Charge.Spot, null, null),                          // an adjustment of another period
            ],
            lines.Select(l => (l.Sku, l.Charge, l.EnergyWh, l.MeanUtilizationPct)));
        Assert.Equal(SampleInvoices.EveryKindOfLine, lines.Select(l => l with { EnergyWh = null, MeanUtilizationPct = null }));
    }

    [Fact]
    public void The_invoice_csv_and_pdf_show_a_lines_energy_and_utilization()
    {
        var invoice = SampleInvoices.Issued([new("H100", Charge.OnDemand, PricingModel.OnDemand, 7200m, 2m, 2.49m, 4.98m, EnergyWh: 812.345m, MeanUtilizationPct: 56.24)]);

        var csv = InvoiceCsv.ToCsv(invoice).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        Assert.EndsWith(",energyWh,meanUtilizationPct", csv[0]);
        Assert.EndsWith(",USD,812.345,56.24", csv[1]);
        Assert.Contains("Energy 812.345 Wh, mean utilization 56.2 % (informational, not charged)", Exporting_an_invoice_as_pdf.PdfText(InvoicePdf.ToPdf(invoice)));
    }

    [Fact]
    public void Focus_rows_of_a_lease_day_share_its_energy_by_gpu_seconds_in_x_columns_and_corrections_get_none()
    {
        var rows = new FocusMonth().Rows();
        // Every lease-day at 250 W and 40 %: each of its rows then gets 250 W over its own GPU-seconds.
        var byLeaseDay = rows.Where(r => r.Charge.LeaseId is not null && !r.IsCorrection)
            .GroupBy(r => (r.Charge.LeaseId!.Value, r.Charge.Start), r => r.Charge.GpuSeconds)
            .ToDictionary(g => g.Key, g => new EnergySum(g.Sum(), g.Sum() * 250, g.Sum() * 40, g.Sum()));

        var csv = FocusExport.ToCsv(FocusEnergy.Apportion(rows, byLeaseDay));
        var read = FocusConformance.Read(csv, out var header);

        Assert.Equal(["x_EnergyWh", "x_MeanUtilizationPct"], header[^2..]);
        Assert.Equal(rows.Count, read.Count);
        Assert.Contains(byLeaseDay.Keys, k => rows.Count(r => r.Charge.LeaseId == k.Item1 && r.Charge.Start == k.Item2 && !r.IsCorrection) > 1);
        foreach (var (row, written) in rows.Zip(read))
        {
            var measured = row.Charge.LeaseId is not null && !row.IsCorrection;
            Assert.Equal(measured ? (decimal.Round(row.Charge.GpuSeconds * 250 / 3600, 3, MidpointRounding.AwayFromZero)).ToString(System.Globalization.CultureInfo.InvariantCulture) : "", written["x_EnergyWh"]);
            Assert.Equal(measured ? "40" : "", written["x_MeanUtilizationPct"]);
        }
    }
}
