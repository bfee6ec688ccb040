using Billing.ServiceDefaults.Pricing;
using Billing.Fleet.Pricing;
using Billing.ServiceDefaults;
using FsCheck;
using FsCheck.Xunit;

namespace Billing.Fleet.Tests.Pricing;

public sealed class Moving_spot_prices
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly SpotPricingOptions Options = new();
    private static readonly SkuPrices TwoDollars = new() { OnDemand = 2.00m, SpotFloor = 0.50m, SpotCeiling = 1.90m };

    [Fact]
    public void A_quarter_smoothed_idle_targets_sixty_percent_of_on_demand() =>
        Assert.Equal(1.20m, SpotPricing.Target(0.275m, TwoDollars));

    [Fact]
    public void The_target_is_clamped_to_floor_and_ceiling()
    {
        Assert.Equal(1.80m, SpotPricing.Target(0m, TwoDollars));
        Assert.Equal(0.60m, SpotPricing.Target(1m, TwoDollars));
        Assert.Equal(1.90m, SpotPricing.Target(0m, new SkuPrices { OnDemand = 4m, SpotFloor = 0.5m, SpotCeiling = 1.9m }));
    }

    [Fact]
    public void Smoothing_moves_halfway_in_one_half_life() =>
        Assert.Equal(0.5m, decimal.Round(SpotPricing.Smooth(0m, 1m, Options.HalfLife, Options.HalfLife), 10));

    [Fact]
    public void A_full_pool_with_no_supply_keeps_the_price()
    {
        var last = new SpotState(0.2m, 1.5m, T0);

        Assert.Equal(1.5m, SpotPricing.Tick(last, 0, 4, T0.AddMinutes(5), TwoDollars, Options).Price);
    }

    [Fact]
    public void A_small_move_is_not_published()
    {
        var last = new SpotState(0.275m, 1.203m, T0);

        Assert.Equal(1.203m, SpotPricing.Tick(last, 100, 72, T0.AddMinutes(5), TwoDollars, Options).Price);
    }

    private static SkuPrices Prices(int seed)
    {
        var random = new Random(seed);
        var onDemand = random.Next(50, 1000) / 100m;
        var floor = onDemand * random.Next(5, 40) / 100m;
        return new SkuPrices { OnDemand = onDemand, SpotFloor = decimal.Round(floor, 2), SpotCeiling = decimal.Round(floor + onDemand * random.Next(1, 60) / 100m, 2) };
    }

    [Property(MaxTest = 500)]
    public bool The_price_stays_within_floor_and_ceiling_and_moves_at_most_one_step(int seed, NonNegativeInt supply, NonNegativeInt allocated)
    {
        var prices = Prices(seed);
        var random = new Random(seed);
        var last = new SpotState(random.Next(0, 101) / 100m, random.Next((int)(prices.SpotFloor * 1000), (int)(prices.SpotCeiling * 1000) + 1) / 1000m, T0);
        var next = SpotPricing.Tick(last, supply.Get % 200, allocated.Get % 300, T0.AddMinutes(5), prices, Options);
        return next.Price >= prices.SpotFloor && next.Price <= prices.SpotCeiling
            && Math.Abs(next.Price - last.Price) <= last.Price * Options.MaxStep
            && decimal.Round(next.Price, 3) == next.Price;
    }

    [Property(MaxTest = 300)]
    public bool More_idle_capacity_never_raises_the_price(int seed, byte busier)
    {
        var prices = Prices(seed);
        var last = new SpotState(0.3m, decimal.Round((prices.SpotFloor + prices.SpotCeiling) / 2, 3), T0);
        const int supply = 256;
        var more = SpotPricing.Tick(last, supply, busier / 2, T0.AddMinutes(5), prices, Options);
        var less = SpotPricing.Tick(last, supply, busier, T0.AddMinutes(5), prices, Options);
        return more.Price <= less.Price && SpotPricing.Target(0.6m, prices) <= SpotPricing.Target(0.4m, prices);
    }

    [Property(MaxTest = 100)]
    public bool Under_constant_idle_it_converges_to_within_the_minimum_change_of_its_target(int seed, byte allocated)
    {
        var prices = Prices(seed);
        var state = SpotPricing.Tick(null, 255, 0, T0, prices, Options);
        for (var tick = 1; tick <= 2000; tick++)
        {
            state = SpotPricing.Tick(state, 255, allocated, T0.AddMinutes(5 * tick), prices, Options);
        }

        var target = SpotPricing.Target(SpotPricing.Idle(255, allocated), prices);
        return Math.Abs(state.Price - target) <= target * Options.MinChange + 0.001m;
    }
}
