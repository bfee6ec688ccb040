using Billing.ServiceDefaults.Pricing;
using Billing.ServiceDefaults;

namespace Billing.Fleet.Pricing;

/// <summary>The spot market of one SKU after a tick: smoothed idle fraction and price in force.</summary>
public sealed record SpotState(decimal SmoothedIdle, decimal Price, DateTimeOffset At);

/// <summary>
/// The spot rule: the idler the pool, the cheaper. Idle capacity is smoothed exponentially (half-life
/// H), mapped to a target fraction of the on-demand price (0.90 when 5 % or less is idle, down to
/// 0.30 when half or more is idle), clamped to [floor, ceiling], and approached at most one step per
/// tick; only moves of at least the minimum change are published, rounded to 0.001.
/// </summary>
public static class SpotPricing
{
    private const decimal LowIdle = 0.05m;
    private const decimal HighIdle = 0.50m;

    public static decimal Idle(int supply, int allocated) =>
        supply <= 0 ? 0m : Math.Clamp((supply - allocated) / (decimal)supply, 0m, 1m);

    public static decimal Smooth(decimal previous, decimal idle, TimeSpan elapsed, TimeSpan halfLife)
    {
        var alpha = 1m - (decimal)Math.Pow(2, -elapsed.TotalSeconds / halfLife.TotalSeconds);
        return previous + alpha * (idle - previous);
    }

    public static decimal Target(decimal smoothedIdle, SkuPrices prices)
    {
        var x = Math.Clamp((smoothedIdle - LowIdle) / (HighIdle - LowIdle), 0m, 1m);
        var fraction = 0.90m - 0.60m * x;
        return Math.Clamp(fraction * prices.OnDemand, prices.SpotFloor, prices.SpotCeiling);
    }

    /// <summary>
    /// The state after one tick. The first tick starts the market at its target; with no supply the
    /// market stands still. The price stays within [floor, ceiling] whatever the inputs.
    /// </summary>
    public static SpotState Tick(SpotState? last, int supply, int allocated, DateTimeOffset at, SkuPrices prices, SpotPricingOptions options)
    {
        if (last is null)
        {
            var idle = supply > 0 ? Idle(supply, allocated) : 1m;
            return new SpotState(idle, Round(Target(idle, prices)), at);
        }

        if (supply <= 0)
        {
            return last with { Price = Bound(last.Price, prices), At = at };
        }

        var smoothed = Smooth(last.SmoothedIdle, Idle(supply, allocated), at - last.At, options.HalfLife);
        var target = Target(smoothed, prices);
        var step = last.Price * options.MaxStep;
        var moved = Bound(Round(last.Price + Math.Clamp(target - last.Price, -step, step)), prices);
        if (Math.Abs(moved - last.Price) > step)
        {
            // Rounding must not push a move past the step.
            moved = last.Price + Math.Sign(moved - last.Price) * Math.Floor(step * 1000m) / 1000m;
        }

        var published = last.Price > 0 && Math.Abs(moved - last.Price) / last.Price < options.MinChange ? Bound(last.Price, prices) : moved;
        return new SpotState(smoothed, published, at);
    }

    private static decimal Bound(decimal price, SkuPrices prices) => Math.Clamp(price, prices.SpotFloor, prices.SpotCeiling);

    private static decimal Round(decimal price) => Math.Round(price, 3, MidpointRounding.AwayFromZero);
}
