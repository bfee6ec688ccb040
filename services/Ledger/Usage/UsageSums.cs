using Billing.Contracts;
using Marten;

namespace Billing.Ledger.Usage;

/// <summary>GPU-seconds of one bucket for one SKU and pricing model (and one lease, when summed per lease).</summary>
public sealed record UsageSum(DateTimeOffset Start, string Sku, PricingModel Pricing, decimal GpuSeconds, Guid LeaseId = default);

/// <summary>
/// Hour- and day-grain usage summed by PostgreSQL, one row per bucket, SKU, pricing model (and lease), so a
/// month of a large tenant costs its buckets, not its documents. By SKU or pricing model the sums come from
/// the <see cref="RatableHour"/>s (written with the windows, in their transaction: what rating reads); by
/// lease from the <see cref="UsageHour"/>s (the async projection, the one source that keeps leases apart).
/// Both read the <see cref="UsageColumns"/>, from the (tenant, hour) index, never the JSON documents. Sums are
/// numeric, exact as the decimals they are read back into.
/// </summary>
public static class UsageSums
{
    public static Task<IReadOnlyList<UsageSum>> ReadAsync(IQuerySession session, UsageQuery query, CancellationToken cancellationToken) =>
        query.GroupBy == UsageGrouping.Lease
            ? SumAsync<UsageHour>(session, query, "gpu_seconds", "lease_id", cancellationToken)
            : SumAsync<RatableHour>(session, query, RatableHourTotal, null, cancellationToken);

    /// <summary>An hour's stored total; an hour stored before totals were kept sums its minutes here instead (no rebuild needed).</summary>
    private const string RatableHourTotal =
        "coalesce(total_gpu_seconds, (select sum(m::numeric) from jsonb_array_elements_text(data -> 'gpuSeconds') as m))";

    private static async Task<IReadOnlyList<UsageSum>> SumAsync<THour>(
        IQuerySession session, UsageQuery query, string gpuSeconds, string? lease, CancellationToken cancellationToken)
    {
        await session.Database.EnsureStorageExistsAsync(typeof(THour), cancellationToken);
        var (leaseColumn, leaseField) = lease is null ? ("", "") : ($", {lease}", $", 'leaseId', {lease}");
        return await session.QueryAsync<UsageSum>(
            $"""
            select json_build_object('start', bucket, 'sku', sku, 'pricing', pricing, 'gpuSeconds', gpu_seconds{leaseField})
            from (
                select date_bin(?, hour_start, ?) as bucket, sku, pricing{leaseColumn}, sum({gpuSeconds}) as gpu_seconds
                from {session.DocumentStore.Options.Schema.For<THour>()}
                where tenant_id = ? and hour_start >= ? and hour_start < ?
                group by bucket, sku, pricing{leaseColumn}
            ) as sums
            """,
            cancellationToken,
            query.BucketSize, DateTimeOffset.UnixEpoch, query.TenantId, query.From.ToUniversalTime(), query.To.ToUniversalTime());
    }
}
