using System.Globalization;
using Billing.Contracts;
using Billing.Invoicing.Exports;
using Billing.Invoicing.Invoices;
using CsvHelper;
using FsCheck.Xunit;

namespace Billing.Invoicing.Tests.Exports;

public sealed class Exporting_invoices_as_focus
{
    [Fact]
    public void Each_line_becomes_one_row_with_the_categories_its_charge_maps_to()
    {
        var rows = Read(FocusExport.ToCsv([SampleInvoices.Issued()]));

        Assert.Equal(
            [
                ("A100", "Usage", "Standard"), // on-demand
                ("H100", "Usage", "Standard"), // on-demand
                ("H100", "Usage", "Dynamic"), // spot
                ("H100", "Usage", "Committed"), // reserved, covered
                ("H100", "Usage", "Standard"), // reserved overage
                ("H100", "Purchase", "Committed"), // the commitment
                ("A100", "Adjustment", "Dynamic"), // late spot usage of 2026-10
            ],
            rows.Select(r => (r["SkuId"], r["ChargeCategory"], r["PricingCategory"])));
    }

    [Fact]
    public void Billing_period_is_the_invoice_month_and_an_adjustment_charges_the_month_it_adjusts()
    {
        var rows = Read(FocusExport.ToCsv([SampleInvoices.Issued()]));

        Assert.All(rows, r => Assert.Equal(("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"), (r["BillingPeriodStart"], r["BillingPeriodEnd"])));
        Assert.All(rows.SkipLast(1), r => Assert.Equal(("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"), (r["ChargePeriodStart"], r["ChargePeriodEnd"])));
        Assert.Equal(("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"), (rows[^1]["ChargePeriodStart"], rows[^1]["ChargePeriodEnd"]));
        Assert.Equal("Correction", rows[^1]["ChargeClass"]);
        Assert.Equal("2026-11-01T00:00:00Z", DateTimeOffset.Parse(rows[0]["BillingPeriodStart"], CultureInfo.InvariantCulture).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Rows_carry_account_invoice_currency_region_and_quantities()
    {
        var regions = new Dictionary<string, string> { ["H100"] = "eu-west-1" };

        var rows = Read(FocusExport.ToCsv([SampleInvoices.Issued(), SampleInvoices.Draft()], regions));

        var lines = SampleInvoices.EveryKindOfLine;
        Assert.Equal(2 * lines.Count, rows.Count);
        Assert.All(rows, r => Assert.Equal(("tenant-acme", "USD", "GPU-Hour", string.Empty), (r["BillingAccountId"], r["BillingCurrency"], r["ConsumedUnit"], r["ResourceId"])));
        Assert.Equal(Enumerable.Repeat("INV-2026-000042", lines.Count).Concat(Enumerable.Repeat(SampleInvoices.DraftId.ToString(), lines.Count)), rows.Select(r => r["InvoiceId"]));
        Assert.Equal(lines.Concat(lines).Select(l => l.Sku == "H100" ? "eu-west-1" : string.Empty), rows.Select(r => r["RegionId"]));
        Assert.Equal(lines.Select(l => l.Charge == Charge.Commitment ? 0m : l.QuantityGpuHours), rows.Take(lines.Count).Select(r => Number(r["ConsumedQuantity"])));
        Assert.Equal(lines.Select(l => l.Amount), rows.Take(lines.Count).Select(r => Number(r["BilledCost"])));
        Assert.All(rows, r => Assert.Equal((r["BilledCost"], r["BilledCost"]), (r["EffectiveCost"], r["ListCost"])));
        Assert.Equal("H100 reserved commitment", rows[5]["ChargeDescription"]);
        Assert.Equal("Adjustment for 2026-10: A100 spot usage", rows[6]["ChargeDescription"]);
    }

    [Fact]
    public void A_line_whose_price_divides_exactly_is_priced_per_gpu_hour()
    {
        var line = new InvoiceLine("H100", Charge.OnDemand, PricingModel.OnDemand, 5400m, 1.5m, 2.49m, 3.74m);

        var row = Assert.Single(Read(FocusExport.ToCsv([SampleInvoices.Issued([line])])));

        Assert.Equal(("1.5", "GPU-Hour"), (row["PricingQuantity"], row["PricingUnit"]));
        Assert.Equal(3.74m / 1.5m, Number(row["ListUnitPrice"])); // 2.4933…: the billed amount's own price, not the line's 6-place one
        Assert.Equal(3.74m, Number(row["ListUnitPrice"]) * Number(row["PricingQuantity"]));
    }

    [Theory]
    [InlineData("176742.055", "415.83")] // 49.0950152… GPU-hours: no decimal price times them gives 415.83 back
    [InlineData("0", "1.25")] // an adjustment that moves money but no GPU-seconds
    public void A_line_whose_cost_cannot_be_split_exactly_is_priced_per_line(string gpuSeconds, string billed)
    {
        var seconds = Number(gpuSeconds);
        var amount = Number(billed);
        var line = new InvoiceLine("H100", Charge.OnDemand, PricingModel.OnDemand, seconds, seconds / 3600m, 8.47m, amount, "2026-10");

        var row = Assert.Single(Read(FocusExport.ToCsv([SampleInvoices.Issued([line])])));

        Assert.Equal(("1", "Line"), (row["PricingQuantity"], row["PricingUnit"]));
        Assert.Equal(amount, Number(row["ListUnitPrice"]));
        Assert.Equal(seconds / 3600m, Number(row["ConsumedQuantity"]));
    }

    [Property(MaxTest = 300)]
    public bool Every_row_bills_exactly_its_list_unit_price_times_its_pricing_quantity(int seed)
    {
        var invoices = RandomInvoices(seed);

        var rows = Read(FocusExport.ToCsv(invoices));

        var lines = invoices.SelectMany(i => i.Lines).ToList();
        return rows.Count == lines.Count
            && rows.Zip(lines).All(pair =>
            {
                var (row, line) = pair;
                var billed = Number(row["BilledCost"]);
                var quantity = Number(row["PricingQuantity"]);
                return billed == line.Amount
                    && billed == Number(row["ListUnitPrice"]) * quantity
                    && billed == Number(row["EffectiveCost"]) && billed == Number(row["ListCost"])
                    && (row["PricingUnit"] == "GPU-Hour" ? quantity == line.QuantityGpuHours : row["PricingUnit"] == "Line" && quantity == 1m);
            })
            && rows.Sum(r => Number(r["BilledCost"])) == invoices.Sum(i => i.Total);
    }

    /// <summary>Lines as rating makes them (millisecond GPU-seconds, amounts rounded to cents), adjustments of either sign, some without GPU-seconds.</summary>
    private static List<InvoiceView> RandomInvoices(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, random.Next(1, 4)).Select(_ =>
        {
            var lines = Enumerable.Range(0, random.Next(0, 12)).Select(_ =>
            {
                var charge = (Charge)random.Next(5);
                var seconds = random.Next(4) switch
                {
                    0 => random.Next(1, 1000),
                    1 => random.Next(1, 1_000_000) / 1000m,
                    _ => random.Next(1, int.MaxValue) / 1000m,
                };
                var price = charge == Charge.ReservedCovered ? 0m : random.Next(1, 5000) / 100m;
                var adjusts = random.Next(6) == 0 ? "2026-10" : null;
                if (adjusts is not null && random.Next(2) == 0)
                {
                    seconds = -seconds;
                }

                var amount = Math.Round(seconds * price / 3600m, 2, MidpointRounding.AwayFromZero);
                if (adjusts is not null && random.Next(4) == 0)
                {
                    seconds = 0; // a re-priced adjustment: money, no GPU-seconds
                }

                var hours = seconds / 3600m;
                return new InvoiceLine($"SKU{random.Next(3)}", charge, PricingModel.OnDemand, seconds, hours, hours == 0 ? 0 : Math.Round(amount / hours, 6), amount, adjusts);
            }).ToList();
            return SampleInvoices.Issued(lines, number: $"INV-2026-{random.Next(1, 999_999):D6}");
        }).ToList();
    }

    private static decimal Number(string text) => decimal.Parse(text, NumberStyles.Number, CultureInfo.InvariantCulture);

    private static List<Dictionary<string, string>> Read(string text)
    {
        using var csv = new CsvReader(new StringReader(text), CultureInfo.InvariantCulture);
        Assert.True(csv.Read());
        csv.ReadHeader();
        var header = csv.HeaderRecord!;
        var rows = new List<Dictionary<string, string>>();
        while (csv.Read())
        {
            rows.Add(header.ToDictionary(name => name, name => csv.GetField(name)!));
        }

        return rows;
    }
}
