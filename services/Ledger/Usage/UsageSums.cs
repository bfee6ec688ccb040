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
/// The filters use the same expressions as the documents' indexes, so PostgreSQL answers from the
/// (tenant, hour) index. Sums are numeric, exact as the decimals they are read back into.
/// </summary>
public static class UsageSums
{
    public static Task<IReadOnlyList<UsageSum>> ReadAsync(IQuerySession session, UsageQuery query, CancellationToken cancellationToken) =>
        query.GroupBy == UsageGrouping.Lease
            ? SumAsync<UsageHour>(session, query, "(data ->> 'gpuSeconds')::numeric", "data ->> 'leaseId'", cancellationToken)
            : SumAsync<RatableHour>(session, query, RatableHourTotal, null, cancellationToken);

    /// <summary>An hour's stored total; an hour stored before totals were kept sums its minutes here instead (no rebuild needed).</summary>
    private const string RatableHourTotal =
        "coalesce((data ->> 'totalGpuSeconds')::numeric, (select sum(m::numeric) from jsonb_array_elements_text(data -> 'gpuSeconds') as m))";

    private static async Task<IReadOnlyList<UsageSum>> SumAsync<THour>(
        IQuerySession session, UsageQuery query, string gpuSeconds, string? lease, CancellationToken cancellationToken)
    {
        await session.Database.EnsureStorageExistsAsync(typeof(THour), cancellationToken);
        var options = session.DocumentStore.Options;
        var hour = $"{options.DatabaseSchemaName}.mt_immutable_timestamptz(data ->> 'hourStart')";
        var (leaseColumn, leaseKey, leaseField) = lease is null ? ("", "", "") : ($", {lease} as lease", ", lease", ", 'leaseId', lease");
        return await session.QueryAsync<UsageSum>(
            $"""
            select json_build_object('start', bucket, 'sku', sku, 'pricing', pricing, 'gpuSeconds', gpu_seconds{leaseField})
            from (
                select date_bin(?, {hour}, ?) as bucket, data ->> 'sku' as sku, data ->> 'pricing' as pricing{leaseColumn},
                    sum({gpuSeconds}) as gpu_seconds
                from {options.Schema.For<THour>()}
                where data ->> 'tenantId' = ? and {hour} >= ? and {hour} < ?
                group by bucket, sku, pricing{leaseKey}
            ) as sums
            """,
            cancellationToken,
            query.BucketSize, DateTimeOffset.UnixEpoch, query.TenantId, query.From.ToUniversalTime(), query.To.ToUniversalTime());
    }
}
