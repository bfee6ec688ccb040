using Billing.ServiceDefaults;

namespace Billing.Fleet.Pricing;

/// <summary>One tick of a SKU's spot market: what the pool looked like and where the price stands.</summary>
public sealed record SpotTicked(string Sku, DateTimeOffset Tick, int Supply, int Allocated, decimal SmoothedIdle, decimal Price);

/// <summary>A SKU's spot market as read (inline snapshot of its stream: a tick event each run, a change event each move).</summary>
public sealed record SpotMarket(Guid Id, string Sku, decimal SmoothedIdle, decimal Price, DateTimeOffset LastTick)
{
    public static Guid StreamFor(string sku) => StreamIds.Spot(sku);

    public SpotState State => new(SmoothedIdle, Price, LastTick);

    public static SpotMarket Create(SpotTicked tick) => new(StreamFor(tick.Sku), tick.Sku, tick.SmoothedIdle, tick.Price, tick.Tick);

    public SpotMarket Apply(SpotTicked tick) => this with { SmoothedIdle = tick.SmoothedIdle, Price = tick.Price, LastTick = tick.Tick };
}
