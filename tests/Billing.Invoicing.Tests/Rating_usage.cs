using Billing.Contracts;
using Billing.Invoicing.Commitments;
using Billing.Invoicing.Invoices;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults.Pricing;
using FsCheck;
using FsCheck.Xunit;

namespace Billing.Invoicing.Tests;

public sealed class Rating_usage
{
    private static readonly DateTimeOffset November = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset December = November.AddMonths(1);

    private static readonly PriceHistory Prices = new(
    [
        new PriceBookChanged("USD", 2, new Dictionary<string, SkuPrices>
        {
            ["H100"] = new() { OnDemand = 2.49m, Reserved = 1.80m, SpotFloor = 0.50m, SpotCeiling = 2.00m },
            ["A100"] = new() { OnDemand = 1.29m, Reserved = 0.90m, SpotFloor = 0.30m, SpotCeiling = 1.10m },
        }, DateTimeOffset.UnixEpoch),
    ]);

    private static IReadOnlyList<InvoiceLine> Rate(IEnumerable<RatableWindow> windows, IEnumerable<Commitment>? commitments = null, PriceHistory? prices = null, SpotPrices? spot = null) =>
        Rating.Rate(windows, commitments ?? [], prices ?? Prices, spot ?? SpotPrices.None, November, December);

    private static RatableWindow Window(string sku, PricingModel pricing, int minute, decimal gpuSeconds) => new(Guid.NewGuid(), sku, pricing, November.AddMinutes(minute), gpuSeconds);

    [Fact]
    public void On_demand_usage_makes_one_line_per_sku_with_exact_quantity()
    {
        var lines = Rate([Window("H100", PricingModel.OnDemand, 0, 1800m), Window("H100", PricingModel.OnDemand, 1, 1800m), Window("A100", PricingModel.OnDemand, 0, 7200m)]);

        Assert.Equal(
            [
                new InvoiceLine("A100", Charge.OnDemand, PricingModel.OnDemand, 7200m, 2m, 1.29m, 2.58m),
                new InvoiceLine("H100", Charge.OnDemand, PricingModel.OnDemand, 3600m, 1m, 2.49m, 2.49m),
            ],
            lines);
    }

    [Theory]
    [InlineData(180, 0.13)] // 0.125 rounds away from zero
    [InlineData(176.2, 0.12)] // 0.12187… rounds down
    [InlineData(7.2, 0.01)] // 0.005 rounds up
    [InlineData(7.1, 0.00)]
    public void Each_line_is_rounded_once_half_away_from_zero(double gpuSeconds, double amount)
    {
        var prices = new PriceHistory([new PriceBookChanged("USD", 2, new Dictionary<string, SkuPrices> { ["X"] = new() { OnDemand = 2.50m } }, DateTimeOffset.UnixEpoch)]);

        var line = Assert.Single(Rate([Window("X", PricingModel.OnDemand, 0, (decimal)gpuSeconds)], prices: prices));

        Assert.Equal((decimal)amount, line.Amount);
    }

    [Fact]
    public void Spot_windows_take_the_price_in_force_at_their_start_and_the_line_shows_the_weighted_average()
    {
        var spot = new SpotPrices(new Dictionary<string, IReadOnlyList<(DateTimeOffset, decimal)>>
        {
            ["H100"] = [(November, 1.00m), (November.AddMinutes(5), 2.00m)],
        });

        var line = Assert.Single(Rate([Window("H100", PricingModel.Spot, 4, 480m), Window("H100", PricingModel.Spot, 5, 480m), Window("H100", PricingModel.Spot, 6, 240m)], spot: spot));

        Assert.Equal(Charge.Spot, line.Charge);
        Assert.Equal(0.40m + 0.13m, line.Amount); // 480 s at 1.00 + 720 s at 2.00 per GPU-hour = 0.5333…
        Assert.Equal(1.6m, line.UnitPrice);
    }

    [Fact]
    public void A_price_book_change_reprices_only_windows_from_its_effective_time()
    {
        var changedAt = November.AddMinutes(30);
        var prices = new PriceHistory(
        [
            Prices.Versions[0],
            new PriceBookChanged("USD", 2, new Dictionary<string, SkuPrices> { ["H100"] = new() { OnDemand = 3.60m } }, changedAt),
        ]);

        var line = Assert.Single(Rate([Window("H100", PricingModel.OnDemand, 29, 3600m), Window("H100", PricingModel.OnDemand, 30, 3600m)], prices: prices));

        Assert.Equal(2.49m + 3.60m, line.Amount);
    }

    [Fact]
    public void Reserved_usage_is_covered_up_to_the_committed_gpus_per_window_and_the_rest_is_on_demand()
    {
        var commitment = new Commitment(Guid.NewGuid(), "t", "H100", 2, November, December, November);

        var lines = Rate([Window("H100", PricingModel.Reserved, 0, 120m), Window("H100", PricingModel.Reserved, 0, 60m), Window("H100", PricingModel.Reserved, 1, 60m)], [commitment]);

        var covered = Assert.Single(lines, l => l.Charge == Charge.ReservedCovered);
        var overage = Assert.Single(lines, l => l.Charge == Charge.ReservedOverage);
        var committed = Assert.Single(lines, l => l.Charge == Charge.Commitment);
        Assert.Equal((180m, 0m), (covered.GpuSeconds, covered.Amount));
        Assert.Equal(60m, overage.GpuSeconds);
        Assert.Equal(2.49m, overage.UnitPrice);
        Assert.Equal(2 * 30 * 24m, committed.QuantityGpuHours);
        Assert.Equal(2 * 30 * 24 * 1.80m, committed.Amount);
    }

    [Fact]
    public void Commitments_whose_gpus_together_pass_int_rate_exactly()
    {
        var huge = new[] { int.MaxValue, int.MaxValue }.Select(n => new Commitment(Guid.NewGuid(), "t", "H100", n, November, December, November)).ToList();

        var lines = Rate([Window("H100", PricingModel.Reserved, 0, 7_200m)], huge);

        var committed = Assert.Single(lines, l => l.Charge == Charge.Commitment);
        var hours = 2m * int.MaxValue * 30 * 24;
        Assert.Equal((hours * 3600, hours, hours * 1.80m), (committed.GpuSeconds, committed.QuantityGpuHours, committed.Amount));
        Assert.Equal(7_200m, Assert.Single(lines, l => l.Charge == Charge.ReservedCovered).GpuSeconds);
        Assert.DoesNotContain(lines, l => l.Charge == Charge.ReservedOverage);
    }

    [Fact]
    public void A_commitment_starting_mid_month_is_pro_rated_by_the_hour_and_billed_unused()
    {
        var commitment = new Commitment(Guid.NewGuid(), "t", "A100", 4, November.AddDays(15), November.AddDays(15).AddMonths(1), November);

        var line = Assert.Single(Rate([], [commitment]));

        Assert.Equal(4 * 15 * 24m, line.QuantityGpuHours);
        Assert.Equal(4 * 15 * 24 * 0.90m, line.Amount);
    }

    [Fact]
    public void Health_credits_are_shown_per_line_and_never_charged()
    {
        var lines = Rate(
        [
            new RatableWindow(Guid.NewGuid(), "H100", PricingModel.OnDemand, November, 3600m, 120m),
            new RatableWindow(Guid.NewGuid(), "H100", PricingModel.OnDemand, November.AddMinutes(1), 0m, 480m),
        ]);

        var line = Assert.Single(lines);
        Assert.Equal((3600m, 600m, 2.49m), (line.GpuSeconds, line.HealthCreditGpuSeconds, line.Amount));
    }

    [Fact]
    public void A_sku_missing_from_the_price_book_is_an_error_not_a_free_line() =>
        Assert.Throws<UnknownSkuException>(() => Rate([Window("B200", PricingModel.OnDemand, 0, 1m)]));

    [Fact]
    public void Late_usage_of_an_issued_period_becomes_adjustment_lines_naming_it()
    {
        var issued = Rate([Window("H100", PricingModel.OnDemand, 0, 3600m)]);
        var rerated = Rate([Window("H100", PricingModel.OnDemand, 0, 3600m), Window("H100", PricingModel.OnDemand, 1, 1800m), Window("A100", PricingModel.Spot, 1, 60m)]);

        var adjustments = Rating.Adjustments(rerated, issued, "2026-11");

        Assert.Equal(
            [
                new InvoiceLine("A100", Charge.Spot, PricingModel.Spot, 60m, 60m / 3600m, 1.2m, 0.02m, "2026-11"),
                new InvoiceLine("H100", Charge.OnDemand, PricingModel.OnDemand, 1800m, 0.5m, 2.5m, 1.25m, "2026-11"),
            ],
            adjustments);
        Assert.Empty(Rating.Adjustments(issued, issued, "2026-11"));
    }

    private static List<RatableWindow> Usage(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, random.Next(1, 60))
            .Select(_ => Window(random.Next(2) == 0 ? "H100" : "A100", (PricingModel)random.Next(3), random.Next(0, 600), random.Next(1, 480_000) / 1000m))
            .ToList();
    }

    private static readonly Commitment[] SomeCommitments = [new(Guid.NewGuid(), "t", "H100", 3, November.AddMinutes(100), December, November)];

    [Property(MaxTest = 200)]
    public bool The_total_is_the_sum_of_the_rounded_lines_and_usage_lines_carry_every_metered_second(int seed)
    {
        var usage = Usage(seed);
        var lines = Rate(usage, SomeCommitments);
        return Rating.Total(lines) == lines.Sum(l => l.Amount)
            && lines.All(l => decimal.Round(l.Amount, 2) == l.Amount)
            && lines.Where(l => l.Charge != Charge.Commitment).Sum(l => l.GpuSeconds) == usage.Sum(u => u.GpuSeconds);
    }

    [Property(MaxTest = 200)]
    public bool Re_rating_the_same_usage_in_any_order_gives_the_same_lines(int seed)
    {
        var usage = Usage(seed);
        var once = Rate(usage, SomeCommitments);
        return once.SequenceEqual(Rate(usage, SomeCommitments)) && once.SequenceEqual(Rate(Enumerable.Reverse(usage), SomeCommitments));
    }

    [Property(MaxTest = 200)]
    public bool Rating_a_tenants_hours_gives_the_lines_of_rating_its_windows(int seed)
    {
        var random = new Random(seed);
        var leases = Enumerable.Range(0, random.Next(1, 6)).Select(_ => (Id: Guid.NewGuid(), Sku: random.Next(2) == 0 ? "H100" : "A100", Pricing: (PricingModel)random.Next(3))).ToList();
        var windows = Enumerable.Range(0, random.Next(1, 120))
            .Select(_ => leases[random.Next(leases.Count)])
            .Select(lease => new MeteredWindow(Guid.NewGuid(), lease.Id, "t", lease.Sku, lease.Pricing, November.AddMinutes(random.Next(0, 300)),
                random.Next(0, 480_000) / 1000m, random.Next(4) == 0 ? random.Next(1, 60_000) / 1000m : 0))
            .ToList();
        var spot = new SpotPrices(new Dictionary<string, IReadOnlyList<(DateTimeOffset, decimal)>>
        {
            ["H100"] = Enumerable.Range(0, 20).Select(i => (November.AddSeconds(random.Next(0, 18_000)), random.Next(50, 200) / 100m)).OrderBy(c => c.Item1).ToList(),
        });
        var hours = new Dictionary<string, RatableHour>();
        foreach (var window in windows)
        {
            RatableHour.AddTo(hours, window);
        }

        var fromWindows = Rate(windows.Select(w => new RatableWindow(w.Id, w.Sku, w.Pricing, w.WindowStart, w.GpuSeconds, w.UnbilledGpuSeconds)), SomeCommitments, spot: spot);
        var fromHours = Rate(RatingInputs.MinutesOf(hours.Values)["t"], SomeCommitments, spot: spot);
        return fromWindows.SequenceEqual(fromHours);
    }
}
