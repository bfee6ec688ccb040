using Billing.Fleet.Pricing;
using JasperFx.Events;
using Marten;
using Marten.Events;

namespace Billing.Consoles;

/// <summary>A SKU's latest spot market events of one type, oldest first: a page shows the recent past, not the whole stream.</summary>
public static class SpotEvents
{
    public static async Task<List<T>> LastAsync<T>(IQuerySession session, string sku, int count, CancellationToken cancellationToken)
    {
        var stream = SpotMarket.StreamFor(sku);
        var events = await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamId == stream && e.EventTypesAre(typeof(T)))
            .OrderByDescending(e => e.Sequence).Take(count)
            .ToListAsync(cancellationToken);
        return events.Select(e => e.Data).OfType<T>().Reverse().ToList();
    }
}
