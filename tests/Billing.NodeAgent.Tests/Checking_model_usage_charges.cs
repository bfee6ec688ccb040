using Billing.NodeAgent.Api;
using Billing.NodeAgent.Models;

namespace Billing.NodeAgent.Tests;

public sealed class Checking_model_usage_charges
{
    private static readonly MeterPriceList Prices = new("llm-tokens", "PerMillion", 1_000_000m,
    [
        new GroupPriceList("model=big-chat,tokenType=input", [new TierPrice(10_000_000m, 2.50m), new TierPrice(null, 2.00m)]),
        new GroupPriceList("model=small-chat,tokenType=input", [new TierPrice(null, 0.10m)]),
        new GroupPriceList("*", [new TierPrice(null, 1.00m)]),
    ]);

    private static Invoice InvoiceOf(params InvoiceLine[] lines) => new("inv", "t", "2026-12", "USD", "Draft", lines, lines.Sum(l => l.Amount));

    private static InvoiceLine Metered(string group, int tier, decimal quantity, decimal amount, string? adjusts = null) =>
        new("llm-tokens", "Metered", "OnDemand", 0, 0, 0, amount, adjusts, new MeteredQuantity("llm-tokens", group, tier, quantity, 1_000_000m));

    [Fact]
    public void A_month_beyond_a_tier_bound_is_split_there_and_each_tier_rounded_once()
    {
        var lines = TokenCharges.Lines(new Dictionary<string, decimal> { ["model=big-chat,tokenType=input"] = 12_345_678m }, Prices, 2);

        Assert.Equal(
            [
                new ExpectedTierLine("model=big-chat,tokenType=input", 0, 10_000_000m, 25.00m),
                new ExpectedTierLine("model=big-chat,tokenType=input", 1, 2_345_678m, 4.69m), // 4.691356
            ],
            lines);
    }

    [Fact]
    public void A_month_ending_on_the_bound_stays_in_the_first_tier()
    {
        var lines = TokenCharges.Lines(new Dictionary<string, decimal> { ["model=big-chat,tokenType=input"] = 10_000_000m }, Prices, 2);

        Assert.Equal([new ExpectedTierLine("model=big-chat,tokenType=input", 0, 10_000_000m, 25.00m)], lines);
    }

    [Fact]
    public void A_group_the_book_does_not_name_takes_the_star_price_and_halves_round_away_from_zero()
    {
        var lines = TokenCharges.Lines(
            new Dictionary<string, decimal> { ["model=embed-small,tokenType=input"] = 1_234_567m, ["model=small-chat,tokenType=input"] = 50_000m }, Prices, 2);

        Assert.Equal(
            [
                new ExpectedTierLine("model=embed-small,tokenType=input", 0, 1_234_567m, 1.23m),
                new ExpectedTierLine("model=small-chat,tokenType=input", 0, 50_000m, 0.01m), // 0.005 exactly
            ],
            lines);
    }

    [Fact]
    public void Invoiced_lines_are_compared_per_model_and_line_by_line_an_adjustment_adding_to_its_tier()
    {
        var reported = new Dictionary<string, decimal> { ["model=big-chat,tokenType=input"] = 12_000_000m, ["model=small-chat,tokenType=input"] = 1_000_000m };
        var usage = new MeterUsageReport("t", "llm-tokens", "Day", "model",
            [new MeterUsageBucket(DateTimeOffset.UnixEpoch, "big-chat", 12_000_000m), new MeterUsageBucket(DateTimeOffset.UnixEpoch, "small-chat", 1_000_000m)], 13_000_000m);
        Invoice[] invoices =
        [
            InvoiceOf(
                new InvoiceLine("H100", "OnDemand", "OnDemand", 3600, 1, 2.49m, 2.49m),
                Metered("model=big-chat,tokenType=input", 0, 10_000_000m, 25.00m),
                Metered("model=big-chat,tokenType=input", 1, 1_500_000m, 3.00m),
                Metered("model=small-chat,tokenType=input", 0, 1_000_000m, 0.10m)),
            InvoiceOf(Metered("model=big-chat,tokenType=input", 1, 500_000m, 1.00m, adjusts: "2026-12")),
        ];

        var check = ModelCheck.Of("tenant", reported, usage, invoices, Prices, 2);
        var withoutAdjustment = ModelCheck.Of("tenant", reported, usage, invoices[..1], Prices, 2);

        Assert.True(check.Matches);
        Assert.Equal([new ModelRow("big-chat", 12_000_000m, 12_000_000m, 12_000_000m, 29.00m, 29.00m), new ModelRow("small-chat", 1_000_000m, 1_000_000m, 1_000_000m, 0.10m, 0.10m)], check.Rows);
        Assert.False(withoutAdjustment.Matches);
        Assert.False(withoutAdjustment.Rows[0].Matches);
    }

    [Fact]
    public void The_same_seed_makes_the_same_traffic_with_distinct_ids_and_both_token_types()
    {
        var at = new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);
        var first = new TokenTraffic(7).Tick(["a", "b", "c"], 50, at);
        var second = new TokenTraffic(7).Tick(["a", "b", "c"], 50, at);

        Assert.Equal(first, second);
        Assert.Equal(first.Count, first.Select(e => e.Id).Distinct().Count());
        Assert.Contains(first, e => e.TenantId == "a" && e.Model == "big-chat" && e.TokenType == "output");
        Assert.All(first, e => Assert.InRange(e.At, at.AddSeconds(-5), at));
    }
}
