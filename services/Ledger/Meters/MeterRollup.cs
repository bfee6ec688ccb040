using System.Data;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Marten;
using Marten.Services;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Billing.Ledger.Meters;

/// <summary>
/// Rolls the ingest log into per-minute aggregates (events in the tenant's meter stream of the month)
/// and hourly <see cref="MeterHour"/>s, exactly once: a step takes the rows after the rolled sequence
/// number up to the log's committed horizon, and moves that number past them in one transaction with
/// the stream appends and documents. Racing rollups queue on the rolled sequence's row lock; a lost race
/// on an hour or revision rolls the whole step back and its rows are taken again. Each touched
/// tenant-month's <see cref="UsageRevision"/> rises, so invoicing re-rates it, late events of a closed
/// month included (as adjustments).
/// </summary>
public sealed partial class MeterRollup(
    MeterEventLog log, NpgsqlDataSource dataSource, IDocumentStore store, IOptions<MeterOptions> options, ILogger<MeterRollup> logger) : BackgroundService
{
    private const int RowsPerStep = 20_000;

    /// <summary>How long a woken rollup lets commits gather: fewer, larger steps write fewer minute events and documents per event.</summary>
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(250);

    private readonly SemaphoreSlim wake = new(0);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        log.Committed += Wake;
        return base.StartAsync(cancellationToken);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        log.Committed -= Wake;
        return base.StopAsync(cancellationToken);
    }

    /// <summary>Rolls up everything logged so far; returns the events rolled.</summary>
    public async Task<int> RollAllAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        for (int rolled; (rolled = await StepWithRetriesAsync(cancellationToken)) > 0;)
        {
            total += rolled;
        }

        return total;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RollAllAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRollupFailed(logger, ex);
            }

            await wake.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
            await Task.Delay(Gather, stoppingToken);
        }
    }

    private void Wake()
    {
        if (wake.CurrentCount == 0)
        {
            wake.Release();
        }
    }

    private async Task<int> StepWithRetriesAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StepAsync(cancellationToken);
            }
            catch (Exception ex) when (attempt < 20 && (WriteConflicts.IsConflict(ex) || ex is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected }))
            {
                // Another rollup or the GPU usage consumer wrote the same hour or revision: take the rows again.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 50)), cancellationToken);
            }
        }
    }

    private async Task<int> StepAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var horizon = await log.CommittedHorizonAsync(connection, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var (minutes, rolledTo, events) = await TakeAsync(connection, transaction, horizon, options.Value.Definitions, cancellationToken);
        if (events == 0)
        {
            return 0;
        }

        await using var session = store.LightweightSession(SessionOptions.ForTransaction(transaction, shouldAutoCommit: false));
        await StoreAsync(session, minutes, options.Value.Definitions, cancellationToken);
        await using (var mark = new NpgsqlCommand($"update {log.RolledTable} set seq = $1", connection, transaction))
        {
            mark.Parameters.Add(new NpgsqlParameter { Value = rolledTo });
            await mark.ExecuteNonQueryAsync(cancellationToken);
        }

        await session.SaveChangesWithoutExceptionDataAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (int)events;
    }

    /// <summary>Appends the minutes to their streams and adds them to their hours, raising each tenant-month's revision.</summary>
    private static async Task StoreAsync(IDocumentSession session, List<MeterUsageAggregated> minutes, Dictionary<string, Meter> meters, CancellationToken cancellationToken)
    {
        var hourIds = minutes.Select(m => MeterHour.IdFor(m.TenantId, m.Meter, m.GroupKey, TimeBuckets.StartOfHour(m.MinuteStart))).Distinct().ToList();
        var hours = (await session.LoadManyAsync<MeterHour>(cancellationToken, hourIds)).ToDictionary(h => h.Id);
        var revisionIds = minutes.Select(m => UsageRevision.IdFor(m.TenantId, BillingPeriod.Of(m.MinuteStart))).Distinct().ToList();
        var revisions = (await session.LoadManyAsync<UsageRevision>(cancellationToken, revisionIds)).ToDictionary(r => r.Id);
        var stored = hours.Keys.Concat(revisions.Keys).ToHashSet();
        foreach (var minute in minutes)
        {
            var period = BillingPeriod.Of(minute.MinuteStart);
            var revisionId = UsageRevision.IdFor(minute.TenantId, period);
            if (!revisions.ContainsKey(revisionId))
            {
                revisions[revisionId] = new UsageRevision { Id = revisionId, TenantId = minute.TenantId, Period = period };
            }

            var id = MeterHour.IdOf(minute);
            if (!hours.TryGetValue(id, out var hour))
            {
                hours[id] = hour = MeterHour.Of(minute, AggregationOf(meters, minute.Meter));
            }

            hour.Add(minute);
        }

        foreach (var revision in revisions.Values)
        {
            revision.Revision++;
        }

        foreach (var stream in minutes.GroupBy(m => MeterHour.StreamFor(m.TenantId, m.Meter, BillingPeriod.Of(m.MinuteStart))))
        {
            session.Events.Append(stream.Key, stream
                .Select(m => (object)(m with { Revision = revisions[UsageRevision.IdFor(m.TenantId, BillingPeriod.Of(m.MinuteStart))].Revision }))
                .ToArray());
        }

        // One order for every transaction, so two of them wait for each other rather than deadlock.
        foreach (var hour in hours.Values.OrderBy(h => h.Id, StringComparer.Ordinal))
        {
            hour.Revision = revisions[UsageRevision.IdFor(hour.TenantId, hour.Period)].Revision;
            session.InsertOrUpdate(hour, stored.Contains(hour.Id));
        }

        foreach (var revision in revisions.Values.OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            session.InsertOrUpdate(revision, stored.Contains(revision.Id));
        }
    }

    private static MeterAggregation AggregationOf(Dictionary<string, Meter> meters, string meter) =>
        meters.TryGetValue(meter, out var definition) ? definition.Aggregation : MeterAggregation.Sum;

    /// <summary>
    /// The rows after the rolled sequence number up to <paramref name="horizon"/> (at most <see cref="RowsPerStep"/>),
    /// summed per tenant, meter, group and minute by PostgreSQL: the rows never cross to this process, only their
    /// minutes. Returns those, the last sequence number taken and how many rows; the rolled row stays locked until the step commits.
    /// </summary>
    private async Task<(List<MeterUsageAggregated> Minutes, long RolledTo, long Events)> TakeAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long horizon, Dictionary<string, Meter> meters, CancellationToken cancellationToken)
    {
        long rolled;
        await using (var lockRolled = new NpgsqlCommand($"select seq from {log.RolledTable} for update", connection, transaction))
        {
            rolled = (long)(await lockRolled.ExecuteScalarAsync(cancellationToken))!;
        }

        // date_bin from the epoch, not date_trunc: whole UTC minutes whatever the session's time zone.
        await using var command = new NpgsqlCommand(
            $"""
            with taken as (
                select seq, tenant_id, meter, group_key, value, event_time from {log.Table} where seq > $1 and seq <= $2 order by seq limit {RowsPerStep})
            select tenant_id, meter, group_key, date_bin('1 minute', event_time, timestamptz '1970-01-01 00:00:00+00') as minute,
                sum(value), max(value), count(*), min(seq), max(seq)
            from taken group by 1, 2, 3, 4 order by minute, min(seq)
            """,
            connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = rolled });
        command.Parameters.Add(new NpgsqlParameter { Value = horizon });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var minutes = new List<MeterUsageAggregated>();
        var (rolledTo, events) = (rolled, 0L);
        while (await reader.ReadAsync(cancellationToken))
        {
            var meter = reader.GetString(1);
            var aggregation = AggregationOf(meters, meter);
            var count = reader.GetInt64(6);
            var last = reader.GetInt64(8);
            minutes.Add(new MeterUsageAggregated(reader.GetString(0), meter, reader.GetString(2), new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero),
                aggregation == MeterAggregation.Max ? reader.GetDecimal(5) : reader.GetDecimal(4), count, reader.GetInt64(7), last, aggregation));
            (rolledTo, events) = (Math.Max(rolledTo, last), events + count);
        }

        return (minutes, rolledTo, events);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Rolling up metered events failed; the next pass takes them again.")]
    private static partial void LogRollupFailed(ILogger logger, Exception exception);
}
