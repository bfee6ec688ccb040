using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace Billing.Ledger.Meters;

/// <summary>
/// A tenant's meter in one month as the ledger holds it: the events ingested (the log's rows by event
/// time, with those pruned after the dedup window kept as counts) and what they were aggregated into
/// (the hourly aggregates), each as events and quantity (the sum, or for a max meter the peak).
/// </summary>
public sealed record MeterLedgerTotals(
    string TenantId, string Meter, MeterAggregation Aggregation, long IngestedEvents, decimal Ingested, long AggregatedEvents, decimal Aggregated,
    long FirstSequence, long LastSequence);

/// <summary>What reconciliation reads of the meters: per tenant × meter of a month, ingested against aggregated.</summary>
public sealed class MeterAudit(NpgsqlDataSource dataSource, IDocumentStore store, string schema)
{
    /// <summary>Registers the audit where the ledger's meters or invoicing's reconciliation run (both, in one host).</summary>
    public static void Add(IServiceCollection services, IConfiguration configuration)
    {
        services.AddBillingDataSource(configuration);
        services.TryAddSingleton(sp => new MeterAudit(
            sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<IDocumentStore>(), configuration["Billing:Schema"] ?? "billing"));
    }

    public async Task<IReadOnlyList<MeterLedgerTotals>> TotalsAsync(string period, CancellationToken cancellationToken)
    {
        var (start, end) = BillingPeriod.Bounds(period);
        var ingested = new Dictionary<(string, string), (long Events, decimal Sum, decimal Peak, long First, long Last)>();
        await using (var command = dataSource.CreateCommand(
            $"""
            select tenant_id, meter, count(*), coalesce(sum(value), 0), coalesce(max(value), 0), coalesce(min(seq), 0), coalesce(max(seq), 0)
            from {MeterEventLog.TableOf(schema)} where event_time >= $1 and event_time < $2 group by tenant_id, meter
            union all
            select tenant_id, meter, events, quantity, peak, 0, 0 from {MeterEventLog.PrunedTableOf(schema)} where period = $3
            """))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = start.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = end.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = period });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = (reader.GetString(0), reader.GetString(1));
                var (events, sum, peak, first, last) = ingested.GetValueOrDefault(key);
                var (rowFirst, rowLast) = (reader.GetInt64(5), reader.GetInt64(6));
                ingested[key] = (events + reader.GetInt64(2), sum + reader.GetDecimal(3), Math.Max(peak, reader.GetDecimal(4)),
                    first == 0 ? rowFirst : rowFirst == 0 ? first : Math.Min(first, rowFirst), Math.Max(last, rowLast));
            }
        }

        await using var session = store.QuerySession();
        var hours = (await session.Query<MeterHour>().Where(h => h.Period == period).ToListAsync(cancellationToken))
            .GroupBy(h => (h.TenantId, h.Meter)).ToDictionary(g => g.Key, g => g.ToList());
        return ingested.Keys.Union(hours.Keys).Order().Select(key =>
        {
            var rows = ingested.GetValueOrDefault(key);
            var own = hours.GetValueOrDefault(key) ?? [];
            var aggregation = own.Select(h => h.Aggregation).DefaultIfEmpty(MeterAggregation.Sum).First();
            var max = aggregation == MeterAggregation.Max;
            return new MeterLedgerTotals(key.Item1, key.Item2, aggregation, rows.Events, max ? rows.Peak : rows.Sum, own.Sum(h => h.Events),
                max ? own.Select(h => h.Quantity).DefaultIfEmpty().Max() : own.Sum(h => h.Quantity), rows.First, rows.Last);
        }).ToList();
    }
}
