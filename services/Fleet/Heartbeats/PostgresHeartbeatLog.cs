using System.Diagnostics;
using System.Threading.Channels;
using Billing.ServiceDefaults.Telemetry;
using Billing.Fleet.Metering;
using Billing.Fleet.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Billing.Fleet.Heartbeats;

/// <summary>
/// Heartbeats go to PostgreSQL in group commits: concurrent appends queue up, and a writer stores
/// whatever has queued in one statement, one fsync for up to <see cref="MaxBatch"/> heartbeats.
/// Each append completes only once its batch is committed. GPU telemetry rides in the same statement:
/// one row per heartbeat in <c>fleet_gpu_telemetry</c>, a column per reading holding one entry per GPU.
/// </summary>
public sealed partial class PostgresHeartbeatLog(NpgsqlDataSource dataSource, string schema, ILogger<PostgresHeartbeatLog> logger)
    : BackgroundService, IHeartbeatLog
{
    private const int MaxBatch = 2000;
    private const int Writers = 2;

    private readonly Channel<PendingAppend> queue = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = false });

    private string Table => $"{schema}.fleet_heartbeats";

    public async Task AppendAsync(string nodeId, HeartbeatSample sample, GpuReadings? readings = null, CancellationToken cancellationToken = default)
    {
        var pending = new PendingAppend(nodeId, sample, readings, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), Activity.Current?.Context ?? default);
        await queue.Writer.WriteAsync(pending, cancellationToken);
        await pending.Done.Task.WaitAsync(cancellationToken);
    }

    public async Task<HeartbeatSample?> LastAsync(string nodeId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            $"select observed_at, healthy_mask from {Table} where node_id = $1 order by observed_at desc limit 1");
        command.Parameters.Add(new NpgsqlParameter { Value = nodeId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<HeartbeatSample>> ReadFromAsync(string nodeId, DateTimeOffset from, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            select observed_at, healthy_mask from {Table}
            where node_id = $1 and observed_at >= coalesce(
                (select max(observed_at) from {Table} where node_id = $1 and observed_at <= $2), $2)
            order by observed_at
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = nodeId });
        command.Parameters.Add(new NpgsqlParameter { Value = from.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var samples = new List<HeartbeatSample>();
        while (await reader.ReadAsync(cancellationToken))
        {
            samples.Add(Read(reader));
        }

        return samples;
    }

    public async Task<int> PruneAsync(string nodeId, DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            delete from {Table}
            where node_id = $1
              and observed_at < (select max(observed_at) from {Table} where node_id = $1 and observed_at <= $2)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = nodeId });
        command.Parameters.Add(new NpgsqlParameter { Value = before.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            create schema if not exists {schema};
            create table if not exists {Table} (
                node_id text not null,
                observed_at timestamptz not null,
                healthy_mask bigint not null,
                primary key (node_id, observed_at));
            {GpuTelemetryStore.CreateTable(schema)}
            """);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => WriteBatchesAsync(stoppingToken)));

    private async Task WriteBatchesAsync(CancellationToken stoppingToken)
    {
        var batch = new List<PendingAppend>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync(stoppingToken))
        {
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            try
            {
                using var span = BatchActivity.Start(FleetMetrics.Tracing, "heartbeats group commit", ActivityKind.Internal, batch.Select(p => p.Caller), batch.Count);
                await InsertAsync(batch, stoppingToken);
                batch.ForEach(p => p.Done.TrySetResult());
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogWriteFailed(logger, ex, batch.Count);
                batch.ForEach(p => p.Done.TrySetException(ex));
            }

            batch.Clear();
        }
    }

    private async Task InsertAsync(List<PendingAppend> batch, CancellationToken cancellationToken)
    {
        // One statement per batch; a replayed heartbeat (same node and time) is already stored and is
        // skipped, and so is its telemetry. Telemetry arrives flattened (one entry per GPU) and is
        // folded back into one row per heartbeat.
        await using var command = dataSource.CreateCommand(
            $"""
            with heartbeats as (
                insert into {Table} (node_id, observed_at, healthy_mask)
                select * from unnest($1::text[], $2::timestamptz[], $3::bigint[])
                on conflict do nothing)
            insert into {schema}.{GpuTelemetryStore.Table}
                (node_id, observed_at, healthy_mask, gpus, utilization_pct, memory_used_mib, temperature_c, power_w, ecc_uncorrected, xid)
            select r.node_id, r.observed_at, min(r.healthy_mask), array_agg(r.gpu), array_agg(r.utilization), array_agg(r.memory),
                   array_agg(r.temperature), array_agg(r.power), array_agg(r.ecc), array_agg(r.xid)
            from unnest($4::text[], $5::timestamptz[], $6::bigint[], $7::int[], $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::bigint[], $13::int[])
                as r(node_id, observed_at, healthy_mask, gpu, utilization, memory, temperature, power, ecc, xid)
            group by r.node_id, r.observed_at
            on conflict do nothing
            """);
        foreach (var column in Columns(batch))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = column });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The statement's thirteen array parameters, filled in one pass over the batch: three for the
    /// heartbeats, ten for their telemetry flattened to one entry per GPU.
    /// </summary>
    private static Array[] Columns(List<PendingAppend> batch)
    {
        var gpus = 0;
        foreach (var pending in batch)
        {
            gpus += pending.Readings?.Gpus.Length ?? 0;
        }

        var (nodes, times, masks) = (new string[batch.Count], new DateTime[batch.Count], new long[batch.Count]);
        var (gpuNodes, gpuTimes, gpuMasks, indices) = (new string[gpus], new DateTime[gpus], new long[gpus], new int[gpus]);
        var (utilization, memory, temperature, power) = (new double?[gpus], new double?[gpus], new double?[gpus], new double?[gpus]);
        var (ecc, xid) = (new long?[gpus], new int?[gpus]);
        var row = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var (nodeId, sample, readings) = (batch[i].NodeId, batch[i].Sample, batch[i].Readings);
            (nodes[i], times[i], masks[i]) = (nodeId, sample.ObservedAt.UtcDateTime, unchecked((long)sample.HealthyMask));
            for (var g = 0; g < (readings?.Gpus.Length ?? 0); g++, row++)
            {
                (gpuNodes[row], gpuTimes[row], gpuMasks[row], indices[row]) = (nodeId, times[i], masks[i], readings!.Gpus[g]);
                (utilization[row], memory[row], temperature[row], power[row]) =
                    (readings.UtilizationPct[g], readings.MemoryUsedMiB[g], readings.TemperatureC[g], readings.PowerW[g]);
                (ecc[row], xid[row]) = (readings.EccUncorrected[g], readings.Xid[g]);
            }
        }

        return [nodes, times, masks, gpuNodes, gpuTimes, gpuMasks, indices, utilization, memory, temperature, power, ecc, xid];
    }

    private static HeartbeatSample Read(NpgsqlDataReader reader) =>
        new(new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero), unchecked((ulong)reader.GetInt64(1)));

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing {Count} heartbeats failed; their posts get 503 and agents resend.")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count);

    private sealed record PendingAppend(string NodeId, HeartbeatSample Sample, GpuReadings? Readings, TaskCompletionSource Done, ActivityContext Caller);
}
