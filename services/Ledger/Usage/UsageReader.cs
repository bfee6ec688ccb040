using Marten;
using Npgsql;

namespace Billing.Ledger.Usage;

/// <summary>
/// Answers usage questions: minutes, nodes and single leases from the stored windows; other hours and days
/// from sums PostgreSQL computes over the hourly documents (<see cref="UsageSums"/>).
/// </summary>
public sealed class UsageReader(IQuerySession session, NpgsqlDataSource dataSource)
{
    public async Task<UsageReport> ReadAsync(UsageQuery query, CancellationToken cancellationToken)
    {
        IEnumerable<(DateTimeOffset At, string Key, decimal GpuSeconds)> rows;
        if (query.ReadsWindows)
        {
            var windows = session.Query<MeteredWindow>()
                .Where(w => w.TenantId == query.TenantId && w.WindowStart >= query.From && w.WindowStart < query.To);
            if (query.LeaseId is { } leaseId)
            {
                windows = windows.Where(w => w.LeaseId == leaseId);
            }

            rows = (await windows.ToListAsync(cancellationToken)).Select(w => (w.WindowStart, query.KeyOf(w.Sku, w.LeaseId, w.Pricing, w.NodeId), w.GpuSeconds));
        }
        else
        {
            var sums = await UsageSums.ReadAsync(session.DocumentStore, dataSource, query, cancellationToken);
            rows = sums.Select(s => (s.Start, query.KeyOf(s.Sku, s.LeaseId, s.Pricing), s.GpuSeconds));
        }

        var buckets = rows
            .GroupBy(r => (Start: query.BucketOf(r.At), r.Key))
            .Select(g => new UsageBucket(g.Key.Start, g.Key.Key, g.Sum(r => r.GpuSeconds)))
            .OrderBy(b => b.Start).ThenBy(b => b.Key, StringComparer.Ordinal)
            .ToList();
        return new UsageReport(query.TenantId, query.From, query.To, query.Granularity, query.GroupBy, buckets, buckets.Sum(b => b.GpuSeconds));
    }
}
