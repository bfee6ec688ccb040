using Billing.Invoicing.Invoices;
using Billing.Invoicing.Meters;
using Billing.Ledger;
using Billing.Ledger.Meters;
using Billing.ServiceDefaults.Pricing;
using FsCheck.Xunit;

namespace Billing.Invoicing.Tests.Meters;

public sealed class Splitting_usage_into_tiers
{
    private static readonly PriceTier[] Tiers = [new() { UpTo = 10_000_000m, Price = 2.50m }, new() { UpTo = 50_000_000m, Price = 2.00m }, new() { Price = 1.50m }];

    private static readonly DateTimeOffset November = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly PriceHistory Prices = new(
    [
        new PriceBookChanged("USD", 2, new Dictionary<string, SkuPrices>(), DateTimeOffset.UnixEpoch, new Dictionary<string, MeterPrices>
        {
            ["llm-tokens"] = new()
            {
                Unit = MeterUnit.PerMillion,
                Groups = { ["model=big"] = new GroupPrice { Tiers = [.. Tiers] }, ["model=small"] = new GroupPrice { Price = 0.15m } },
            },
        }),
    ]);

    private static MeterUsageHour Hour(string model, int hour, decimal tokens) =>
        new("t", "llm-tokens", GroupKeys.Of(new Dictionary<string, string> { ["model"] = model }), November.AddHours(hour), MeterAggregation.Sum, tokens, 1, hour + 1, hour + 1, 1);

    [Fact]
    public void A_quantity_across_a_bound_is_split_exactly_at_it()
    {
        Assert.Equal([(0, 1_500_000m), (1, 500_000m)], TierSplit.Split(8_500_000m, 2_000_000m, Tiers));
        Assert.Equal([(1, 40_000_000m), (2, 0.5m)], TierSplit.Split(10_000_000m, 40_000_000.5m, Tiers));
        Assert.Equal([(2, 7m)], TierSplit.Split(60_000_000m, 7m, Tiers));
        Assert.Empty(TierSplit.Split(3m, 0m, Tiers));
    }

    [Fact]
    public void A_month_crossing_a_tier_gets_a_line_per_tier_each_rounded_once()
    {
        var hours = new[] { Hour("big", 0, 6_000_000m), Hour("big", 1, 6_000_001m), Hour("small", 0, 1_234_567m) };

        var lines = MeterRating.Lines(hours, Prices, 2);

        Assert.Equal(
            [
                ("model=big", 0, 10_000_000m, 25.00m),
                ("model=big", 1, 2_000_001m, 4.00m),
                ("model=small", 0, 1_234_567m, 0.19m),
            ],
            lines.Select(l => (l.Metered!.Group, l.Metered.Tier, l.Metered.Quantity, l.Amount)));
        Assert.All(lines, l => Assert.Equal(Charge.Metered, l.Charge));
    }

    [Fact]
    public void A_group_the_book_does_not_price_fails_the_rating()
    {
        Assert.Throws<UnpricedMeterException>(() => MeterRating.Lines([Hour("unknown", 0, 5m)], Prices, 2));
    }

    [Property(MaxTest = 300)]
    public bool Parts_add_up_to_the_quantity_and_stay_inside_their_tiers(int seed)
    {
        var random = new Random(seed);
        var before = random.Next(0, 80_000_000) + random.Next(0, 1000) / 1000m;
        var quantity = random.Next(0, 80_000_000) + random.Next(0, 1000) / 1000m;

        var parts = TierSplit.Split(before, quantity, Tiers);

        var lower = new[] { 0m, 10_000_000m, 50_000_000m };
        var upper = new[] { 10_000_000m, 50_000_000m, decimal.MaxValue };
        var at = before;
        foreach (var (tier, part) in parts)
        {
            if (part <= 0 || at < lower[tier] || at + part > upper[tier])
            {
                return false;
            }

            at += part;
        }

        return parts.Sum(p => p.Quantity) == quantity && parts.Select(p => p.Tier).SequenceEqual(parts.Select(p => p.Tier).Order());
    }

    [Property(MaxTest = 300)]
    public bool Splitting_usage_hour_by_hour_fills_each_tier_as_the_month_total_does(int seed)
    {
        var random = new Random(seed);
        var hours = Enumerable.Range(0, random.Next(1, 40)).Select(_ => (decimal)random.Next(0, 5_000_000)).ToList();

        var counted = 0m;
        var byHour = new decimal[Tiers.Length];
        foreach (var hour in hours)
        {
            foreach (var (tier, part) in TierSplit.Split(counted, hour, Tiers))
            {
                byHour[tier] += part;
            }

            counted += hour;
        }

        var whole = new decimal[Tiers.Length];
        foreach (var (tier, part) in TierSplit.Split(0, hours.Sum(), Tiers))
        {
            whole[tier] += part;
        }

        return byHour.SequenceEqual(whole);
    }
}
