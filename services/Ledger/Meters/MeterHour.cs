using Billing.ServiceDefaults;

namespace Billing.Ledger.Meters;

/// <summary>
/// One minute of a tenant's usage of a meter for one group, rolled up from the ingest log rows
/// <see cref="FirstSequence"/> to <see cref="LastSequence"/> (those of them in this group and minute).
/// Appended to the tenant's meter stream for the month: the facts rating can be replayed from.
/// <see cref="Revision"/> is the tenant-month's usage revision the rollup raised when it stored the
/// minute (0 in events stored before it was recorded): a rating from revision r read the minutes up to r.
/// </summary>
public sealed record MeterUsageAggregated(
    string TenantId, string Meter, string GroupKey, DateTimeOffset MinuteStart, decimal Quantity, long Events, long FirstSequence, long LastSequence,
    MeterAggregation Aggregation = MeterAggregation.Sum, long Revision = 0);

/// <summary>
/// A tenant's usage of one meter for one group in one UTC hour (by event time): what rating reads,
/// never the raw events. Written in the transaction that rolls the events up, with the ingest
/// sequence range behind it, and stamped with the tenant-month's usage revision.
/// </summary>
public sealed class MeterHour
{
    public string Id { get; set; } = "";

    public string TenantId { get; set; } = "";

    public string Meter { get; set; } = "";

    /// <summary>The group's values as one key (<see cref="GroupKeys"/>).</summary>
    public string GroupKey { get; set; } = "";

    public string Period { get; set; } = "";

    public DateTimeOffset HourStart { get; set; }

    public MeterAggregation Aggregation { get; set; }

    /// <summary>Sum (or count, or max) of the hour's values.</summary>
    public decimal Quantity { get; set; }

    public long Events { get; set; }

    public long FirstSequence { get; set; }

    public long LastSequence { get; set; }

    public long Revision { get; set; }

    public static Guid StreamFor(string tenantId, string meter, string period) => DeterministicGuid.Create($"meter:{tenantId}:{meter}:{period}");

    public static string IdFor(string tenantId, string meter, string groupKey, DateTimeOffset hourStart) =>
        $"{tenantId}|{meter}|{groupKey}|{hourStart:yyyyMMddHH}";

    /// <summary>The id of the hour a minute belongs to.</summary>
    public static string IdOf(MeterUsageAggregated minute) => IdFor(minute.TenantId, minute.Meter, minute.GroupKey, TimeBuckets.StartOfHour(minute.MinuteStart));

    /// <summary>A new, empty hour for the minute's tenant, meter, group and hour.</summary>
    public static MeterHour Of(MeterUsageAggregated minute, MeterAggregation aggregation)
    {
        var start = TimeBuckets.StartOfHour(minute.MinuteStart);
        return new MeterHour
        {
            Id = IdFor(minute.TenantId, minute.Meter, minute.GroupKey, start),
            TenantId = minute.TenantId,
            Meter = minute.Meter,
            GroupKey = minute.GroupKey,
            Period = BillingPeriod.Of(start),
            HourStart = start,
            Aggregation = aggregation,
        };
    }

    /// <summary>The hours the minutes add up to (as the rollup stored them): what replaying a meter stream gives.</summary>
    public static IEnumerable<MeterHour> Fold(IEnumerable<MeterUsageAggregated> minutes)
    {
        var hours = new Dictionary<string, MeterHour>();
        foreach (var minute in minutes)
        {
            var id = IdOf(minute);
            if (!hours.TryGetValue(id, out var hour))
            {
                hours[id] = hour = Of(minute, minute.Aggregation);
            }

            hour.Add(minute);
        }

        return hours.Values;
    }

    /// <summary>Folds a minute's aggregate into the hour.</summary>
    public void Add(MeterUsageAggregated minute)
    {
        Quantity = Aggregation == MeterAggregation.Max ? Math.Max(Quantity, minute.Quantity) : Quantity + minute.Quantity;
        Events += minute.Events;
        FirstSequence = FirstSequence == 0 ? minute.FirstSequence : Math.Min(FirstSequence, minute.FirstSequence);
        LastSequence = Math.Max(LastSequence, minute.LastSequence);
    }
}
