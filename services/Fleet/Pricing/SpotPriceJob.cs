using Billing.ServiceDefaults.Pricing;
using Billing.Contracts.Fleet;
using Billing.Fleet.Messaging;
using Billing.Fleet.Placement;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Billing.Fleet.Pricing;

/// <summary>
/// Moves every SKU's spot price from its pool's idle capacity, once per tick of the interval grid.
/// A run for a tick already recorded changes nothing; two runs racing for one tick collide on the
/// stream version and only one appends.
/// </summary>
public sealed class SpotPriceJob(
    IGrainFactory grains,
    IDocumentStore store,
    IFleetOutbox outbox,
    IOptions<SpotPricingOptions> options,
    FleetMetrics metrics,
    [FromKeyedServices(BillingClock.Key)] TimeProvider time) : IBillingJob
{
    public const string Id = "fleet-spot-prices";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var tick = new DateTimeOffset(now.UtcTicks - now.UtcTicks % options.Value.Interval.Ticks, TimeSpan.Zero);
        PriceBookChanged book;
        await using (var query = store.QuerySession())
        {
            book = (await PriceHistory.LoadAsync(query, cancellationToken)).At(tick);
        }

        foreach (var (sku, prices) in book.Skus)
        {
            if (await TickAsync(sku, prices, book.Currency, tick, cancellationToken) is { } changed)
            {
                await outbox.PublishAsync(changed, cancellationToken);
            }
        }
    }

    private async Task<SpotPriceChanged?> TickAsync(string sku, SkuPrices prices, string currency, DateTimeOffset tick, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<SpotMarket>(SpotMarket.StreamFor(sku), cancellationToken);
        var market = stream.Aggregate;
        if (market is not null && market.LastTick >= tick)
        {
            metrics.Spot(sku, market.Price, currency, (double)market.SmoothedIdle);
            return null;
        }

        var capacity = await grains.GetGrain<ISkuPoolGrain>(sku).Capacity();
        var next = SpotPricing.Tick(market?.State, capacity.Supply, capacity.Allocated, tick, prices, options.Value);
        stream.AppendOne(new SpotTicked(sku, tick, capacity.Supply, capacity.Allocated, next.SmoothedIdle, next.Price));
        metrics.Spot(sku, next.Price, currency, (double)next.SmoothedIdle);
        SpotPriceChanged? changed = null;
        if (market is null || next.Price != market.Price)
        {
            changed = new SpotPriceChanged(sku, next.Price, market?.Price, currency, tick);
            stream.AppendOne(changed);
        }

        try
        {
            await session.SaveChangesAsync(cancellationToken);
            return changed;
        }
        catch (Exception ex) when (WriteConflicts.IsConflict(ex))
        {
            return null;
        }
    }
}
