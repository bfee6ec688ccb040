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
        var buckets = query.ReadsWindows
            ? await ReadWindowsAsync(query, cancellationToken)
            : await UsageSums.ReadAsync(session.DocumentStore, dataSource, query, cancellationToken);
        return new UsageReport(query.TenantId, query.From, query.To, query.Granularity, query.GroupBy, buckets, buckets.Sum(b => b.GpuSeconds));
    }

    private async Task<IReadOnlyList<UsageBucket>> ReadWindowsAsync(UsageQuery query, CancellationToken cancellationToken)
    {
        var windows = session.Query<MeteredWindow>()
            .Where(w => w.TenantId == query.TenantId && w.WindowStart >= query.From && w.WindowStart < query.To);
        if (query.LeaseId is { } leaseId)
        {
            windows = windows.Where(w => w.LeaseId == leaseId);
        }

        return (await windows.ToListAsync(cancellationToken))
            .GroupBy(w => (Start: query.BucketOf(w.WindowStart), Key: query.KeyOf(w.Sku, w.LeaseId, w.Pricing, w.NodeId)))
            .Select(g => new UsageBucket(g.Key.Start, g.Key.Key, g.Sum(w => w.GpuSeconds)))
            .OrderBy(b => b.Start).ThenBy(b => b.Key, StringComparer.Ordinal)
            .ToList();
    }
}
