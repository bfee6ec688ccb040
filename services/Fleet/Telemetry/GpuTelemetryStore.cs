using Npgsql;
using NpgsqlTypes;

namespace Billing.Fleet.Telemetry;

/// <summary>
/// Reads the GPU telemetry the heartbeat log stores (one row per heartbeat, one array entry per
/// GPU); minute rollups are aggregated on read, so they are exact whatever the retention keeps.
/// </summary>
public sealed class GpuTelemetryStore(NpgsqlDataSource dataSource, string schema)
{
    public const string Table = "fleet_gpu_telemetry";

    private string Qualified => $"{schema}.{Table}";

    public static string CreateTable(string schema) =>
        $"""
        create table if not exists {schema}.{Table} (
            node_id text not null,
            observed_at timestamptz not null,
            healthy_mask bigint not null,
            gpus int[] not null,
            utilization_pct float8[] not null,
            memory_used_mib float8[] not null,
            temperature_c float8[] not null,
            power_w float8[] not null,
            ecc_uncorrected bigint[] not null,
            xid int[] not null,
            primary key (node_id, observed_at));
        """;

    /// <summary>Per GPU per UTC minute in [from, to): means and maxima of what was reported; XID reports counted.</summary>
    public async Task<IReadOnlyList<TelemetryMinute>> MinutesAsync(string nodeId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            select date_trunc('minute', t.observed_at), g.gpu, count(*)::int, avg(g.utilization), avg(g.power), max(g.power),
                   max(g.temperature), max(g.memory), max(g.ecc), (count(*) filter (where g.xid > 0))::int
            from {Qualified} t,
                 unnest(t.gpus, t.utilization_pct, t.power_w, t.temperature_c, t.memory_used_mib, t.ecc_uncorrected, t.xid)
                     as g(gpu, utilization, power, temperature, memory, ecc, xid)
            where t.node_id = $1 and t.observed_at >= $2 and t.observed_at < $3
            group by 1, 2
            order by 1, 2
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = nodeId });
        command.Parameters.Add(Time(from));
        command.Parameters.Add(Time(to));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var minutes = new List<TelemetryMinute>();
        while (await reader.ReadAsync(cancellationToken))
        {
            minutes.Add(new TelemetryMinute(
                new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero), reader.GetInt32(1), reader.GetInt32(2),
                Nullable(reader, 3), Nullable(reader, 4), Nullable(reader, 5), Nullable(reader, 6), Nullable(reader, 7),
                reader.IsDBNull(8) ? null : reader.GetInt64(8), reader.GetInt32(9)));
        }

        return minutes;
    }

    /// <summary>The node's heartbeats in [from, to] with the readings of <paramref name="gpus"/>, in order.</summary>
    public async Task<IReadOnlyList<TelemetrySample>> SamplesAsync(
        string nodeId, IReadOnlyList<int> gpus, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            select t.observed_at, t.healthy_mask, g.gpu, g.utilization, g.power
            from {Qualified} t, unnest(t.gpus, t.utilization_pct, t.power_w) as g(gpu, utilization, power)
            where t.node_id = $1 and t.observed_at >= $2 and t.observed_at <= $3 and g.gpu = any($4)
            order by t.observed_at
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = nodeId });
        command.Parameters.Add(Time(from));
        command.Parameters.Add(Time(to));
        command.Parameters.Add(new NpgsqlParameter { Value = gpus.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var samples = new List<TelemetrySample>();
        Dictionary<int, GpuReading>? readings = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            var at = new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero);
            if (samples.Count == 0 || samples[^1].ObservedAt != at)
            {
                readings = [];
                samples.Add(new TelemetrySample(at, unchecked((ulong)reader.GetInt64(1)), readings));
            }

            readings![reader.GetInt32(2)] = new GpuReading(Nullable(reader, 3), Nullable(reader, 4));
        }

        return samples;
    }

    /// <summary>Deletes the node's telemetry observed before <paramref name="before"/> (by its key); returns how many heartbeats' worth.</summary>
    public async Task<int> PruneAsync(string nodeId, DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"delete from {Qualified} where node_id = $1 and observed_at < $2");
        command.Parameters.Add(new NpgsqlParameter { Value = nodeId });
        command.Parameters.Add(Time(before));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlParameter Time(DateTimeOffset at) => new() { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    private static double? Nullable(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDouble(ordinal);
}
