using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Billing.Ledger.Meters;

/// <summary>An accepted event as the ingest log keeps it: its identity, tenant, meter, group and value.</summary>
public sealed record MeteredEvent(string Source, string Id, string TenantId, string Meter, string GroupKey, decimal Value, DateTimeOffset Time);

/// <summary>
/// The durable ingest log (<c>meter_events</c>). Events are group-committed: batches posted at once
/// queue up, and a writer stores whatever has queued in one statement, one fsync for up to
/// <see cref="MaxRows"/> events. The unique key on (source, id) decides which copy of an event counts,
/// across requests, restarts and racing hosts: the insert skips a key already stored, and the rows
/// it returns are the events accepted. An append completes only once its rows are committed.
/// Rows are never updated: the rollup keeps how far it has rolled as one sequence number
/// (<c>meter_events_rolled</c>), and <see cref="CommittedHorizonAsync"/> tells it up to where every row is committed.
/// </summary>
public sealed partial class MeterEventLog(NpgsqlDataSource dataSource, string schema, ILogger<MeterEventLog> logger) : BackgroundService
{
    private const int MaxRows = 10_000;
    private const int Writers = 2;

    private readonly Channel<PendingAppend> queue = Channel.CreateUnbounded<PendingAppend>();

    /// <summary>Raised after each commit that stored events: the rollup need not wait for its next poll.</summary>
    public event Action? Committed;

    public string Table => TableOf(schema);

    public static string TableOf(string schema) => $"{schema}.meter_events";

    /// <summary>One row: the sequence number up to which the log is rolled up (every row at or below it, none above).</summary>
    public string RolledTable => $"{schema}.meter_events_rolled";

    /// <summary>
    /// Inserts hold this advisory lock shared, the rollup's horizon exclusively: sequence numbers are
    /// drawn before commit and commit out of order, so a row below the highest one visible may still be
    /// in flight; once no insert holds the lock, none is.
    /// </summary>
    private string InsertLock => $"{LockClass}, '{Table}'::regclass::oid::int";

    private const int LockClass = 0x6d657465;

    /// <summary>What pruning took out of the log, per tenant, meter and month: reconciliation still counts it.</summary>
    public static string PrunedTableOf(string schema) => $"{schema}.meter_events_pruned";

    /// <summary>Stores the events not stored before; true for each one this call stored (false: a copy of one stored earlier or earlier in the list).</summary>
    public async Task<bool[]> AppendAsync(IReadOnlyList<MeteredEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return [];
        }

        var pending = new PendingAppend(events, new TaskCompletionSource<bool[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        await queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Done.Task.WaitAsync(cancellationToken);
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            create schema if not exists {schema};
            create table if not exists {Table} (
                seq bigint generated always as identity primary key,
                source text not null,
                event_id text not null,
                tenant_id text not null,
                meter text not null,
                group_key text not null,
                value numeric not null,
                event_time timestamptz not null,
                ingested_at timestamptz not null default now(),
                unique (source, event_id));
            create table if not exists {RolledTable} (one boolean primary key default true check (one), seq bigint not null);
            do $$
            begin
                -- A log from before the rolled sequence marked each row rolled: taken over once every row is.
                if exists (select from information_schema.columns where table_schema = '{schema}' and table_name = 'meter_events' and column_name = 'rolled') then
                    if exists (select from {Table} where not rolled) then
                        raise exception 'Roll up {Table} with the previous version before upgrading.';
                    end if;
                    insert into {RolledTable} (seq) select coalesce(max(seq), 0) from {Table} on conflict do nothing;
                    alter table {Table} drop column rolled;
                end if;
            end $$;
            insert into {RolledTable} (seq) values (0) on conflict do nothing;
            create index if not exists meter_events_tenant_time on {Table} (tenant_id, event_time);
            create index if not exists meter_events_ingested on {Table} (ingested_at);
            create table if not exists {PrunedTableOf(schema)} (
                tenant_id text not null,
                meter text not null,
                period text not null,
                events bigint not null,
                quantity numeric not null,
                peak numeric not null,
                primary key (tenant_id, meter, period));
            """);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => WriteBatchesAsync(stoppingToken)));

    private async Task WriteBatchesAsync(CancellationToken stoppingToken)
    {
        var group = new List<PendingAppend>();
        while (await queue.Reader.WaitToReadAsync(stoppingToken))
        {
            var rows = 0;
            while (rows < MaxRows && queue.Reader.TryRead(out var pending))
            {
                group.Add(pending);
                rows += pending.Events.Count;
            }

            try
            {
                var stored = await RetryAsync(() => InsertAsync(group, stoppingToken));
                foreach (var pending in group)
                {
                    pending.Done.TrySetResult(pending.Events.Select(e => stored.Remove((e.Source, e.Id))).ToArray());
                }

                Committed?.Invoke();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogWriteFailed(logger, ex, rows);
                group.ForEach(p => p.Done.TrySetException(ex));
            }

            group.Clear();
        }
    }

    /// <summary>The highest sequence number below which no row is still being inserted (inserts wait the moment it is read).</summary>
    public async Task<long> CommittedHorizonAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"select pg_advisory_xact_lock({InsertLock})"),
                new NpgsqlBatchCommand($"select coalesce(max(seq), 0) from {Table}"),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetInt64(0);
    }

    /// <summary>
    /// Deletes the rolled-up rows ingested and timed before <paramref name="before"/> (the dedup window's
    /// start: a copy of one of them is refused as too old), adding what they counted to the pruned
    /// totals in the same statement; returns the rows deleted.
    /// </summary>
    public async Task<long> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            with gone as (
                delete from {Table} where seq <= (select seq from {RolledTable}) and ingested_at < $1 and event_time < $1
                returning tenant_id, meter, to_char(event_time at time zone 'UTC', 'YYYY-MM') as period, value),
            kept as (
                insert into {PrunedTableOf(schema)} as p (tenant_id, meter, period, events, quantity, peak)
                select tenant_id, meter, period, count(*), sum(value), max(value) from gone group by tenant_id, meter, period
                on conflict (tenant_id, meter, period) do update
                set events = p.events + excluded.events, quantity = p.quantity + excluded.quantity, peak = greatest(p.peak, excluded.peak))
            select count(*) from gone
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = before.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>A deadlock with another host's insert (one whose keys overlap) rolls back one of the two: insert again.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> insert)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await insert();
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DeadlockDetected && attempt < 5)
            {
            }
        }
    }

    /// <summary>One statement for the group; returns the (source, id) pairs it stored.</summary>
    private async Task<HashSet<(string, string)>> InsertAsync(List<PendingAppend> group, CancellationToken cancellationToken)
    {
        // A copy inside the group is left out here; the first copy gets the row (Remove above hands it to one event only).
        // In one order everywhere: two hosts inserting the same keys then wait for each other instead of deadlocking.
        var events = group.SelectMany(p => p.Events).DistinctBy(e => (e.Source, e.Id))
            .OrderBy(e => e.Source, StringComparer.Ordinal).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();
        // One implicit transaction: the lock is held until the rows are committed.
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"select pg_advisory_xact_lock_shared({InsertLock})"));
        var command = new NpgsqlBatchCommand(
            $"""
            insert into {Table} (source, event_id, tenant_id, meter, group_key, value, event_time)
            select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::timestamptz[])
            on conflict (source, event_id) do nothing
            returning source, event_id
            """);
        batch.BatchCommands.Add(command);
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Source).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Id).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.TenantId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Meter).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.GroupKey).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Value).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Time.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        var stored = new HashSet<(string, string)>();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            stored.Add((reader.GetString(0), reader.GetString(1)));
        }

        return stored;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing {Count} metered events failed; their posts get 503 and gateways resend.")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count);

    private sealed record PendingAppend(IReadOnlyList<MeteredEvent> Events, TaskCompletionSource<bool[]> Done);
}
