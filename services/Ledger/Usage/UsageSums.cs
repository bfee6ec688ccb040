using Marten;
using Npgsql;
using NpgsqlTypes;

namespace Billing.Ledger.Usage;

/// <summary>
/// Hour- and day-grain usage summed by PostgreSQL, one row per bucket and key (SKU, pricing model or lease),
/// in the report's order, so a month of a large tenant costs its buckets, not its documents. By SKU or pricing
/// model the sums come from the <see cref="RatableHour"/>s (written with the windows, in their transaction: what
/// rating reads); by lease from the <see cref="UsageHour"/>s (the async projection, the one source that keeps
/// leases apart). Both read the <see cref="UsageColumns"/>, from the (tenant, hour) index, never the JSON
/// documents. Sums are numeric, exact as the decimals they are read back into. The rows are read as typed
/// columns: a JSON object per row, built by PostgreSQL and parsed again here, was most of a month query's CPU.
/// </summary>
public static class UsageSums
{
    /// <summary>An hour's stored total; an hour stored before totals were kept sums its minutes here instead (no rebuild needed).</summary>
    private const string RatableHourTotal =
        "coalesce(total_gpu_seconds, (select sum(m::numeric) from jsonb_array_elements_text(data -> 'gpuSeconds') as m))";

    /// <summary>
    /// The buckets ordered by start, then by key in ordinal order (<c>collate "C"</c>: byte order, ASCII keys). Grouped
    /// and ordered by position: a column of the same name as an alias would take the alias's place in a GROUP BY.
    /// </summary>
    public static async Task<IReadOnlyList<UsageBucket>> ReadAsync(
        IDocumentStore store, NpgsqlDataSource dataSource, UsageQuery query, CancellationToken cancellationToken)
    {
        var (hours, key, gpuSeconds) = query.GroupBy switch
        {
            UsageGrouping.Lease => (typeof(UsageHour), "lease_id::text", "gpu_seconds"),
            UsageGrouping.Pricing => (typeof(RatableHour), "pricing", RatableHourTotal),
            UsageGrouping.Sku => (typeof(RatableHour), "sku", RatableHourTotal),
            _ => throw new ArgumentOutOfRangeException(nameof(query), query.GroupBy, "Node grouping is read from the windows."),
        };
        await store.Storage.Database.EnsureStorageExistsAsync(hours, cancellationToken);
        await using var command = dataSource.CreateCommand(
            $"""
            select date_bin($1, hour_start, $2) as bucket, {key} collate "C" as key, sum({gpuSeconds})
            from {store.Options.Schema.For(hours)}
            where tenant_id = $3 and hour_start >= $4 and hour_start < $5
            group by 1, 2
            order by 1, 2
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = query.BucketSize, NpgsqlDbType = NpgsqlDbType.Interval });
        command.Parameters.Add(new NpgsqlParameter { Value = DateTime.UnixEpoch, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = query.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = query.From.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = query.To.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var buckets = new List<UsageBucket>();
        while (await reader.ReadAsync(cancellationToken))
        {
            buckets.Add(new UsageBucket(new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero), reader.GetString(1), reader.GetDecimal(2)));
        }

        return buckets;
    }
}
