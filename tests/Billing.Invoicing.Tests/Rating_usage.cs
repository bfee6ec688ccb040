using Billing.Contracts;
using Billing.Invoicing.Invoices;
using Billing.ServiceDefaults;
using FsCheck;
using FsCheck.Xunit;

namespace Billing.Invoicing.Tests;

public sealed class Rating_usage
{
    private static readonly PriceBook Prices = new()
    {
        Currency = "USD",
        Skus =
        {
            ["H100"] = new SkuPrices { OnDemand = 2.49m },
            ["A100"] = new SkuPrices { OnDemand = 1.29m },
        },
    };

    [Fact]
    public void One_line_per_sku_and_pricing_model_with_exact_quantity()
    {
        var lines = Rating.Rate(
            [new("H100", PricingModel.OnDemand, 1800m), new("H100", PricingModel.OnDemand, 1800m), new("H100", PricingModel.Spot, 36m), new("A100", PricingModel.OnDemand, 7200m)],
            Prices);

        Assert.Equal(
            [
                new InvoiceLine("A100", PricingModel.OnDemand, 7200m, 2m, 1.29m, 2.58m),
                new InvoiceLine("H100", PricingModel.OnDemand, 3600m, 1m, 2.49m, 2.49m),
                new InvoiceLine("H100", PricingModel.Spot, 36m, 0.01m, 2.49m, 0.02m),
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
        var prices = new PriceBook { Skus = { ["X"] = new SkuPrices { OnDemand = 2.50m } } };

        var line = Assert.Single(Rating.Rate([new("X", PricingModel.OnDemand, (decimal)gpuSeconds)], prices));

        Assert.Equal((decimal)amount, line.Amount);
    }

    [Fact]
    public void A_sku_missing_from_the_price_book_is_an_error_not_a_free_line() =>
        Assert.Throws<UnknownSkuException>(() => Rating.Rate([new("B200", PricingModel.OnDemand, 1m)], Prices));

    private static List<MeteredUsage> Usage(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, random.Next(1, 40))
            .Select(_ => new MeteredUsage(random.Next(2) == 0 ? "H100" : "A100", (PricingModel)random.Next(3), random.Next(0, 86_400_000) / 1000m))
            .ToList();
    }

    [Property(MaxTest = 200)]
    public bool The_total_is_the_sum_of_the_rounded_lines_and_each_line_is_within_half_a_cent(int seed)
    {
        var lines = Rating.Rate(Usage(seed), Prices);
        return Rating.Total(lines) == lines.Sum(l => l.Amount)
            && lines.All(l => decimal.Round(l.Amount, 2) == l.Amount && Math.Abs(l.Amount - l.QuantityGpuHours * l.UnitPrice) <= 0.005m);
    }

    [Property(MaxTest = 200)]
    public bool Re_rating_or_splitting_the_same_usage_gives_the_same_lines(int seed)
    {
        var usage = Usage(seed);
        var split = usage.SelectMany(u => new[] { u with { GpuSeconds = u.GpuSeconds / 2 }, u with { GpuSeconds = u.GpuSeconds - u.GpuSeconds / 2 } });
        var once = Rating.Rate(usage, Prices);
        return once.SequenceEqual(Rating.Rate(usage, Prices)) && once.SequenceEqual(Rating.Rate(split.Reverse(), Prices));
    }
}
