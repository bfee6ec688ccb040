using Billing.Contracts;
using Marten;
using Npgsql;
using NpgsqlTypes;

namespace Billing.Ledger.Usage;

/// <summary>GPU-seconds of one bucket for one SKU and pricing model (and one lease, when summed per lease).</summary>
public sealed record UsageSum(DateTimeOffset Start, string Sku, PricingModel Pricing, decimal GpuSeconds, Guid LeaseId = default);

/// <summary>
/// Hour- and day-grain usage summed by PostgreSQL, one row per bucket, SKU, pricing model (and lease), so a
/// month of a large tenant costs its buckets, not its documents. By SKU or pricing model the sums come from
/// the <see cref="RatableHour"/>s (written with the windows, in their transaction: what rating reads); by
/// lease from the <see cref="UsageHour"/>s (the async projection, the one source that keeps leases apart).
/// Both read the <see cref="UsageColumns"/>, from the (tenant, hour) index, never the JSON documents. Sums are
/// numeric, exact as the decimals they are read back into. The rows are read as typed columns: a JSON object
/// per row, built by PostgreSQL and parsed again here, was most of a month query's CPU.
/// </summary>
public static class UsageSums
{
    public static Task<IReadOnlyList<UsageSum>> ReadAsync(IDocumentStore store, NpgsqlDataSource dataSource, UsageQuery query, CancellationToken cancellationToken) =>
        query.GroupBy == UsageGrouping.Lease
            ? SumAsync<UsageHour>(store, dataSource, query, "gpu_seconds", "lease_id", cancellationToken)
            : SumAsync<RatableHour>(store, dataSource, query, RatableHourTotal, null, cancellationToken);

    /// <summary>An hour's stored total; an hour stored before totals were kept sums its minutes here instead (no rebuild needed).</summary>
    private const string RatableHourTotal =
        "coalesce(total_gpu_seconds, (select sum(m::numeric) from jsonb_array_elements_text(data -> 'gpuSeconds') as m))";

    private static async Task<IReadOnlyList<UsageSum>> SumAsync<THour>(
        IDocumentStore store, NpgsqlDataSource dataSource, UsageQuery query, string gpuSeconds, string? lease, CancellationToken cancellationToken)
    {
        await store.Storage.Database.EnsureStorageExistsAsync(typeof(THour), cancellationToken);
        var leaseColumn = lease is null ? "" : $", {lease}";
        await using var command = dataSource.CreateCommand(
            $"""
            select date_bin($1, hour_start, $2) as bucket, sku, pricing, sum({gpuSeconds}){leaseColumn}
            from {store.Options.Schema.For<THour>()}
            where tenant_id = $3 and hour_start >= $4 and hour_start < $5
            group by bucket, sku, pricing{leaseColumn}
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = query.BucketSize, NpgsqlDbType = NpgsqlDbType.Interval });
        command.Parameters.Add(new NpgsqlParameter { Value = DateTime.UnixEpoch, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = query.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = query.From.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = query.To.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var sums = new List<UsageSum>();
        while (await reader.ReadAsync(cancellationToken))
        {
            sums.Add(new UsageSum(
                new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero), reader.GetString(1), Enum.Parse<PricingModel>(reader.GetString(2)),
                reader.GetDecimal(3), lease is null ? default : reader.GetGuid(4)));
        }

        return sums;
    }
}
