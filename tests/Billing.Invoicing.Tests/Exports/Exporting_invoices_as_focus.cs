using System.Text.Json;
using Billing.Contracts;
using Billing.Invoicing.Exports;
using Billing.Invoicing.Invoices;
using Billing.Ledger.Usage;
using Billing.Tests.Focus;
using FsCheck.Xunit;

namespace Billing.Invoicing.Tests.Exports;

public sealed class Exporting_invoices_as_focus
{
    private readonly FocusMonth month = new();

    private List<Dictionary<string, string>> Read() => FocusConformance.Read(month.Csv(), out _);

    [Fact]
    public void Every_row_of_a_month_with_on_demand_spot_reserved_and_an_adjustment_keeps_the_focus_1_2_rules()
    {
        var rows = Read();

        Assert.Empty(FocusConformance.Violations(month.Csv(), month.Totals));
        Assert.Equal(["Committed", "Dynamic", "Standard"], rows.Select(r => r["PricingCategory"]).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(["Purchase", "Usage"], rows.Select(r => r["ChargeCategory"]).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains(rows, r => r["ChargeClass"] == "Correction");
        Assert.Equal(["", "Unused", "Used"], rows.Select(r => r["CommitmentDiscountStatus"]).Distinct().Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("ListUnitPrice", "9.99")] // breaks ListCost = ListUnitPrice × PricingQuantity
    [InlineData("ContractedCost", "0")]
    [InlineData("BilledCost", "1000")] // the rows no longer add up to the invoice
    [InlineData("ChargePeriodStart", "2026-11-09 00:00:00")]
    [InlineData("ChargeCategory", "Adjustment ")]
    [InlineData("PricingUnit", "GPU-Hour")] // FOCUS units are plural
    [InlineData("RegionName", "")] // null exactly when RegionId is
    [InlineData("PricingQuantity", "N/A")]
    [InlineData("BillingCurrency", "usd")]
    public void The_rule_check_finds_a_row_that_breaks_a_rule(string column, string value)
    {
        var csv = month.Csv();
        var rows = FocusConformance.Read(csv, out var header);
        rows[0][column] = value;

        var broken = string.Join('\n', [string.Join(',', header), .. rows.Select(r => string.Join(',', header.Select(c => r[c].Contains(',') ? $"\"{r[c]}\"" : r[c])))]);

        Assert.Empty(FocusConformance.Violations(csv, month.Totals));
        Assert.NotEmpty(FocusConformance.Violations(broken, month.Totals));
    }

    [Fact]
    public void The_list_price_is_the_on_demand_price_in_force_and_the_contracted_price_the_rate_paid()
    {
        var rows = Read().Where(r => r["x_AdjustsPeriod"] == "").ToList();

        var onDemand = rows.Where(r => r["x_Charge"] == "OnDemand" && r["InvoiceId"] == FocusMonth.IssuedNumber).ToList();
        Assert.Equal([("2.49", "2.49"), ("2.49", "2.49"), ("2.59", "2.59")], onDemand.Select(r => (r["ListUnitPrice"], r["ContractedUnitPrice"])));
        var spot = rows.Where(r => r["x_Charge"] == "Spot").ToList();
        Assert.Equal([("2.49", "1.20"), ("2.49", "1.35")], spot.Select(r => (r["ListUnitPrice"], r["ContractedUnitPrice"])));
        Assert.All(spot, r => Assert.Equal(("Dynamic", "H100:spot", "H100"), (r["PricingCategory"], r["SkuPriceId"], r["SkuId"])));
        var purchase = rows.First(r => r["ChargeCategory"] == "Purchase");
        Assert.Equal(("1.29", "0.90", "24", "21.60", "0"), (purchase["ListUnitPrice"], purchase["ContractedUnitPrice"], purchase["PricingQuantity"], purchase["BilledCost"], purchase["EffectiveCost"]));
    }

    [Fact]
    public void Usage_rows_are_per_lease_per_utc_day_in_the_region_of_the_lease_node()
    {
        var rows = Read().Where(r => r["ResourceId"] == FocusMonth.OnDemandLease.ToString() && r["InvoiceId"] == FocusMonth.IssuedNumber).ToList();

        Assert.Equal(
            [
                ("2026-11-09T00:00:00Z", "2026-11-10T00:00:00Z", 239.512m),
                ("2026-11-10T00:00:00Z", "2026-11-11T00:00:00Z", 207.25m),
                ("2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", 220.1m),
            ],
            rows.Select(r => (r["ChargePeriodStart"], r["ChargePeriodEnd"], FocusConformance.Number(r["ConsumedQuantity"]))));
        Assert.All(rows, r => Assert.Equal(
            ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "eu-west-1", "eu-west-1", FocusMonth.Tenant, "Acme", "GPU Lease", "GPU-Seconds"),
            (r["BillingPeriodStart"], r["BillingPeriodEnd"], r["RegionId"], r["RegionName"], r["SubAccountId"], r["SubAccountName"], r["ResourceType"], r["ConsumedUnit"])));
        Assert.All(Read().Where(r => r["ResourceId"] == FocusMonth.SpotLease.ToString()), r => Assert.Equal("us-east-2", r["RegionId"]));
        Assert.All(Read().Where(r => r["ResourceType"] == "GPU Commitment"), r => Assert.Equal(("", ""), (r["RegionId"], r["RegionName"])));
    }

    [Fact]
    public void A_commitment_is_bought_per_day_and_its_cost_spread_over_the_leases_it_covered_and_what_went_unused()
    {
        var rows = Read().Where(r => r["InvoiceId"] == FocusMonth.IssuedNumber && r["CommitmentDiscountId"] == FocusMonth.Commitment.Id.ToString()).ToList();
        var day = rows.Where(r => r["ChargePeriodStart"] == "2026-11-15T00:00:00Z").ToList();

        // 10:00-10:03 the leases use 180, 180, 105.5 and 60 GPU-seconds; the commitment's 60 s a minute go to the lower lease id
        // first: 165.5 s and 74.5 s. The day's 24 GPU-hours at 0.90 (21.60) are spread by seconds: 0.041375 → 0.04 and
        // 0.018625 → 0.02 (the larger remainder takes the cent left over), 21.54 unused.
        var commitment = FocusMonth.Commitment.Id.ToString();
        Assert.Equal(
            [
                ("Usage", "Used", "Committed", FocusMonth.ReservedLease.ToString(), 165.5m / 3600m, 0m, 0.04m),
                ("Usage", "Used", "Committed", FocusMonth.OtherReservedLease.ToString(), 74.5m / 3600m, 0m, 0.02m),
                ("Purchase", "", "Standard", commitment, 24m, 21.60m, 0m),
                ("Usage", "Unused", "Committed", commitment, 86160m / 3600m, 0m, 21.54m),
            ],
            day.Select(r => (r["ChargeCategory"], r["CommitmentDiscountStatus"], r["PricingCategory"], r["ResourceId"],
                FocusConformance.Number(r["CommitmentDiscountQuantity"]), FocusConformance.Number(r["BilledCost"]), FocusConformance.Number(r["EffectiveCost"]))));
        Assert.All(rows, r => Assert.Equal(("Usage", "Reserved GPU", "GPU-Hours"), (r["CommitmentDiscountCategory"], r["CommitmentDiscountType"], r["CommitmentDiscountUnit"])));
        Assert.Equal(16, rows.Count(r => r["ChargeCategory"] == "Purchase")); // 15 to 30 November
        Assert.Equal(("30.874", "30.874"), (day[^1]["ListCost"], day[^1]["ContractedCost"])); // 86160 s at 1.29, no trailing zeros
        var overage = Read().Where(r => r["x_Charge"] == "ReservedOverage" && r["InvoiceId"] == FocusMonth.IssuedNumber).ToList();
        Assert.Equal([FocusMonth.ReservedLease.ToString(), FocusMonth.OtherReservedLease.ToString()], overage.Select(r => r["ResourceId"]));
        Assert.All(overage, r => Assert.Equal(("Standard", "", "A100:on-demand"), (r["PricingCategory"], r["CommitmentDiscountId"], r["SkuPriceId"])));
    }

    [Fact]
    public void Late_usage_of_an_issued_month_is_a_correction_on_the_invoice_that_adjusts_it()
    {
        var adjustments = month.Draft.Lines.Where(l => l.AdjustsPeriod == FocusMonth.November).ToList();
        var rows = Read().Where(r => r["ChargeClass"] == "Correction").ToList();

        var row = Assert.Single(rows);
        Assert.Equal(
            ("Usage", "2026-12-01T00:00:00Z", "2026-11-12T00:00:00Z", "2026-11-13T00:00:00Z", FocusMonth.November, FocusMonth.OnDemandLease.ToString(), "156", month.Draft.Id.ToString()),
            (row["ChargeCategory"], row["BillingPeriodStart"], row["ChargePeriodStart"], row["ChargePeriodEnd"], row["x_AdjustsPeriod"], row["ResourceId"], row["ConsumedQuantity"], row["InvoiceId"]));
        Assert.Equal(adjustments.Sum(l => l.Amount), FocusConformance.Number(row["BilledCost"]));
        Assert.StartsWith("Adjustment for 2026-11:", row["ChargeDescription"], StringComparison.Ordinal);
    }

    [Property(MaxTest = 200)]
    public bool The_rows_of_every_line_add_up_to_its_amount_and_keep_the_cost_identities(int seed)
    {
        var random = new Random(seed);
        var leases = Enumerable.Range(0, random.Next(1, 5)).Select(_ => (Id: Guid.NewGuid(), Pricing: (PricingModel)random.Next(3))).ToList();
        var windows = leases.SelectMany(l => FocusMonth.Minutes(l.Id, "A100", l.Pricing, FocusMonth.NovemberStart.AddMinutes(random.Next(0, 60 * 24 * 29)),
            Enumerable.Range(0, random.Next(1, 90)).Select(_ => random.Next(0, 480_001) / 1000m).ToArray())).ToList();
        var usage = new FocusUsage(windows, random.Next(2) == 0 ? [FocusMonth.Commitment] : []);
        var lines = FocusMonth.Rate(FocusMonth.November, usage);
        var invoice = new Invoice(Guid.NewGuid(), FocusMonth.Tenant, FocusMonth.November, "USD", InvoiceStatus.Draft, lines, Rating.Total(lines), FocusMonth.NovemberStart);

        var csv = FocusExport.ToCsv(FocusExport.Rows([new FocusInvoice(invoice, null, usage, [])], FocusMonth.Prices, FocusMonth.Spot, new Dictionary<Guid, string>()));

        var rows = FocusConformance.Read(csv, out _);
        return FocusConformance.Violations(csv, new Dictionary<string, decimal> { [invoice.Id.ToString()] = invoice.Total }).Count == 0
            && lines.All(l => rows.Where(r => r["SkuId"] == l.Sku && r["x_Charge"] == l.Charge.ToString() && r["CommitmentDiscountStatus"] != "Unused")
                .Sum(r => FocusConformance.Number(r["BilledCost"])) == l.Amount)
            && lines.Where(l => l.Charge != Charge.Commitment).All(l => rows.Where(r => r["SkuId"] == l.Sku && r["x_Charge"] == l.Charge.ToString())
                .Sum(r => FocusConformance.Number(r["ConsumedQuantity"])) == l.GpuSeconds);
    }

    [Property(MaxTest = 100)]
    public bool Corrections_for_any_late_usage_keep_the_rules_and_add_up_to_each_adjustment_line(int seed)
    {
        var random = new Random(seed);
        var leases = new[] { (FocusMonth.OnDemandLease, "H100", PricingModel.OnDemand), (FocusMonth.SpotLease, "H100", PricingModel.Spot),
            (FocusMonth.ReservedLease, "A100", PricingModel.Reserved), (FocusMonth.OtherReservedLease, "A100", PricingModel.Reserved) };
        var late = Enumerable.Range(0, random.Next(1, 6)).SelectMany(_ =>
        {
            var (lease, sku, pricing) = leases[random.Next(leases.Length)];
            var first = new DateTimeOffset(2026, 11, 15, 9, 58, 0, TimeSpan.Zero).AddMinutes(random.Next(0, 8) + (random.Next(3) == 0 ? 1440 * random.Next(-5, 10) : 0));
            return FocusMonth.Minutes(lease, sku, pricing, first, Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(1, 120_001) / 1000m).ToArray(), revision: 2);
        }).DistinctBy(w => w.Id).ExceptBy(month.AsIssued.Windows.Select(w => w.Id), w => w.Id).ToList();
        var adjusted = new FocusUsage([.. month.AsIssued.Windows, .. late], [FocusMonth.Commitment]);
        var lines = Rating.Adjustments(FocusMonth.Rate(FocusMonth.November, adjusted), month.Issued.Lines, FocusMonth.November);
        var draft = new Invoice(Guid.NewGuid(), FocusMonth.Tenant, FocusMonth.December, "USD", InvoiceStatus.Draft, lines, Rating.Total(lines), FocusMonth.NovemberStart);

        var csv = FocusExport.ToCsv(FocusExport.Rows(
            [new FocusInvoice(draft, null, new FocusUsage([], []), [new FocusAdjusted(FocusMonth.November, month.AsIssued, adjusted, month.Issued)])],
            FocusMonth.Prices, FocusMonth.Spot, FocusMonth.Regions));

        var rows = FocusConformance.Read(csv, out _);
        return FocusConformance.Violations(csv, new Dictionary<string, decimal> { [draft.Id.ToString()] = draft.Total }).Count == 0
            && rows.All(r => r["ChargeClass"] == "Correction" && r["x_AdjustsPeriod"] == FocusMonth.November && r["ChargePeriodStart"].StartsWith("2026-11-", StringComparison.Ordinal))
            && lines.All(l => rows.Where(r => r["SkuId"] == l.Sku && r["x_Charge"] == l.Charge.ToString()).Sum(r => FocusConformance.Number(r["BilledCost"])) == l.Amount);
    }

    [Fact]
    public void Usage_the_invoice_does_not_show_is_left_out_and_a_line_without_usage_stands_alone()
    {
        var line = new InvoiceLine("H100", Charge.OnDemand, PricingModel.OnDemand, 7200m, 2m, 2.49m, 4.98m);
        var invoice = new Invoice(Guid.NewGuid(), FocusMonth.Tenant, FocusMonth.November, "USD", InvoiceStatus.Draft, [line], 4.98m, FocusMonth.NovemberStart);

        var rows = FocusExport.Rows([new FocusInvoice(invoice, null, new FocusUsage([], []), [])], FocusMonth.Prices, FocusMonth.Spot, new Dictionary<Guid, string>());

        var row = Assert.Single(rows);
        Assert.Equal((null, FocusMonth.NovemberStart, FocusMonth.NovemberStart.AddMonths(1), 4.98m, 2m), (row.Charge.LeaseId, row.Charge.Start, row.Charge.End, row.Charge.BilledCost, row.Charge.PricingQuantity));
    }

    [Fact]
    public void The_metadata_declares_focus_1_2_and_the_columns_in_the_order_written()
    {
        FocusConformance.Read(month.Csv(), out var header);

        var metadata = JsonDocument.Parse(JsonSerializer.Serialize(FocusMetadata.Current)).RootElement;

        Assert.Equal("1.2", metadata.GetProperty("FocusVersion").GetString());
        Assert.True(Guid.TryParse(metadata.GetProperty("SchemaId").GetString(), out _));
        Assert.Equal(header, metadata.GetProperty("ColumnDefinition").EnumerateArray().Select(c => c.GetProperty("ColumnName").GetString()));
        Assert.All(metadata.GetProperty("ColumnDefinition").EnumerateArray(), c => Assert.Contains(c.GetProperty("DataType").GetString(), new[] { "STRING", "DECIMAL", "DATETIME" }));
        Assert.Equal(["DataGenerator", "SchemaId", "CreationDate", "FocusVersion", "ColumnDefinition"], metadata.EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("1.00", new[] { "1", "1", "1" }, new[] { "0.34", "0.33", "0.33" })] // ties: the earlier row
    [InlineData("0.10", new[] { "1", "2", "7" }, new[] { "0.01", "0.02", "0.07" })]
    [InlineData("0.05", new[] { "0.3333", "0.3333", "0.3334" }, new[] { "0.02", "0.01", "0.02" })] // largest remainders first
    [InlineData("-0.05", new[] { "1", "1" }, new[] { "-0.03", "-0.02" })]
    [InlineData("2.00", new[] { "0", "0" }, new[] { "2.00", "0" })] // no weight: the first row takes it
    public void Amounts_are_shared_in_minor_units_by_largest_remainder(string total, string[] weights, string[] expected)
    {
        var shares = FocusAllocation.Allocate(FocusConformance.Number(total), weights.Select(FocusConformance.Number).ToList(), 2);

        Assert.Equal(expected.Select(FocusConformance.Number), shares);
    }

    [Property(MaxTest = 300)]
    public bool Shares_add_up_to_the_amount_and_each_is_within_a_minor_unit_of_its_exact_share(int seed)
    {
        var random = new Random(seed);
        var weights = Enumerable.Range(0, random.Next(1, 30)).Select(_ => random.Next(0, 1_000_000) / 1000m).ToList();
        var total = random.Next(-100_000, 1_000_000) / 100m;

        var shares = FocusAllocation.Allocate(total, weights, 2);

        var sum = weights.Sum();
        return shares.Sum() == total
            && shares.All(s => decimal.Round(s, 2) == s)
            && (sum == 0 || shares.Select((s, i) => Math.Abs(s - total * weights[i] / sum)).All(d => d < 0.01m));
    }
}
