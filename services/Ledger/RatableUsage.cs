using Billing.Contracts;
using Billing.Ledger.Meters;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Marten;

namespace Billing.Ledger;

/// <summary>A tenant's billed and unbilled GPU-seconds per minute of one UTC hour, for one SKU and pricing model.</summary>
public sealed record GpuUsageHour(
    string TenantId, string Sku, PricingModel Pricing, DateTimeOffset HourStart, IReadOnlyList<decimal> GpuSeconds, IReadOnlyList<decimal> UnbilledGpuSeconds, long Revision);

/// <summary>A tenant's usage of one meter for one group in one UTC hour, with the ingest sequence range it was rolled up from.</summary>
public sealed record MeterUsageHour(
    string TenantId, string Meter, string GroupKey, DateTimeOffset HourStart, MeterAggregation Aggregation, decimal Quantity, long Events,
    long FirstSequence, long LastSequence, long Revision);

/// <summary>Usage of some tenants in one period, as rating reads it: hours of GPU-seconds and of meters.</summary>
public sealed record RatableUsage(IReadOnlyList<GpuUsageHour> Gpu, IReadOnlyList<MeterUsageHour> Meters)
{
    /// <summary>The usage revision each tenant's hours show: the newest hour's.</summary>
    public IReadOnlyDictionary<string, long> Revisions() =>
        Gpu.Select(h => (h.TenantId, h.Revision)).Concat(Meters.Select(h => (h.TenantId, h.Revision)))
            .GroupBy(h => h.TenantId).ToDictionary(g => g.Key, g => g.Max(h => h.Revision));
}

/// <summary>
/// The one way other services read what the ledger holds for rating: revisions, ratable hours
/// (GPU-seconds and meters) for a set of tenants, and who used what since a time. Plain records out,
/// so how the ledger stores them can change behind it.
/// </summary>
public interface IRatableUsage
{
    /// <summary>Each tenant's usage revision of the period (raised by every change to its usage).</summary>
    Task<IReadOnlyDictionary<string, long>> RevisionsAsync(string period, CancellationToken cancellationToken);

    /// <summary>The tenants' hours of the period, read in one snapshot.</summary>
    Task<RatableUsage> HoursAsync(string period, IReadOnlyCollection<string> tenantIds, CancellationToken cancellationToken);

    /// <summary>Tenants with usage in the period from <paramref name="from"/>'s hour on (all usage with <see cref="DateTimeOffset.MinValue"/>); with <paramref name="spotSku"/>, only spot usage of it.</summary>
    Task<IReadOnlyList<string>> TenantsWithUsageAsync(string period, DateTimeOffset from, string? spotSku, CancellationToken cancellationToken);

    /// <summary>One tenant's meter hours of the period; up to a revision, what a rating from that revision read (folded from the minutes stored up to it).</summary>
    Task<IReadOnlyList<MeterUsageHour>> MeterHoursAsync(string tenantId, string period, long? upToRevision, CancellationToken cancellationToken);
}

/// <summary>The ledger's documents behind <see cref="IRatableUsage"/>.</summary>
public sealed class MartenRatableUsage(IQuerySession session) : IRatableUsage
{
    public async Task<IReadOnlyDictionary<string, long>> RevisionsAsync(string period, CancellationToken cancellationToken) =>
        (await session.Query<UsageRevision>().Where(r => r.Period == period).ToListAsync(cancellationToken)).ToDictionary(r => r.TenantId, r => r.Revision);

    public async Task<RatableUsage> HoursAsync(string period, IReadOnlyCollection<string> tenantIds, CancellationToken cancellationToken)
    {
        var ids = tenantIds.ToArray();
        var batch = session.CreateBatchQuery();
        var gpu = batch.Query<RatableHour>().Where(h => h.Period == period && h.TenantId.IsOneOf(ids)).ToList();
        var meters = batch.Query<MeterHour>().Where(h => h.Period == period && h.TenantId.IsOneOf(ids)).ToList();
        await batch.Execute(cancellationToken);
        return new RatableUsage(
            (await gpu).Select(h => new GpuUsageHour(h.TenantId, h.Sku, h.Pricing, h.HourStart, h.GpuSeconds, h.UnbilledGpuSeconds, h.Revision)).ToList(),
            (await meters).Select(Plain).ToList());
    }

    public async Task<IReadOnlyList<string>> TenantsWithUsageAsync(string period, DateTimeOffset from, string? spotSku, CancellationToken cancellationToken)
    {
        var hour = from == DateTimeOffset.MinValue ? DateTimeOffset.MinValue : TimeBuckets.StartOfHour(from);
        var hours = session.Query<RatableHour>().Where(h => h.Period == period && h.HourStart >= hour);
        if (spotSku is not null)
        {
            return await hours.Where(h => h.Sku == spotSku && h.Pricing == PricingModel.Spot).Select(h => h.TenantId).Distinct().ToListAsync(cancellationToken);
        }

        var metered = await session.Query<MeterHour>().Where(h => h.Period == period && h.HourStart >= hour).Select(h => h.TenantId).Distinct().ToListAsync(cancellationToken);
        return (await hours.Select(h => h.TenantId).Distinct().ToListAsync(cancellationToken)).Union(metered).ToList();
    }

    public async Task<IReadOnlyList<MeterUsageHour>> MeterHoursAsync(string tenantId, string period, long? upToRevision, CancellationToken cancellationToken)
    {
        if (upToRevision is not { } upTo)
        {
            return (await session.Query<MeterHour>().Where(h => h.TenantId == tenantId && h.Period == period).ToListAsync(cancellationToken)).Select(Plain).ToList();
        }

        // An hour's document moves on with later minutes; the stream keeps each minute with the revision that stored it.
        var (start, end) = Billing.ServiceDefaults.BillingPeriod.Bounds(period);
        var minutes = await session.Events.QueryRawEventDataOnly<MeterUsageAggregated>()
            .Where(m => m.TenantId == tenantId && m.MinuteStart >= start && m.MinuteStart < end)
            .ToListAsync(cancellationToken);
        return MeterHour.Fold(minutes.Where(m => m.Revision <= upTo)).Select(Plain).ToList();
    }

    /// <summary>Meter hours replayed from the meter streams' events alone (no read model): of one tenant, or (null) of every tenant.</summary>
    public async Task<IReadOnlyList<MeterUsageHour>> MeterHoursFromStreamsAsync(string period, string? tenantId, CancellationToken cancellationToken)
    {
        var (start, end) = Billing.ServiceDefaults.BillingPeriod.Bounds(period);
        var events = session.Events.QueryRawEventDataOnly<MeterUsageAggregated>().Where(m => m.MinuteStart >= start && m.MinuteStart < end);
        if (tenantId is not null)
        {
            events = events.Where(m => m.TenantId == tenantId);
        }

        return MeterHour.Fold(await events.ToListAsync(cancellationToken)).Select(Plain).ToList();
    }

    private static MeterUsageHour Plain(MeterHour h) =>
        new(h.TenantId, h.Meter, h.GroupKey, h.HourStart, h.Aggregation, h.Quantity, h.Events, h.FirstSequence, h.LastSequence, h.Revision);
}
