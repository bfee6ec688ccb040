using System.Text.Json.Serialization;

namespace Billing.Ledger.Usage;

public enum Granularity
{
    Minute,
    Hour,
    Day,
}

public enum UsageGrouping
{
    Sku,
    Lease,
    Pricing,

    /// <summary>By the node that metered each window (read from the stored windows).</summary>
    Node,
}

/// <summary>What a report measures: GPU-seconds alone (the default), or with their GPU energy and mean utilization.</summary>
public enum UsageMetric
{
    GpuSeconds,
    Energy,
}

/// <summary>A bucket's usage; <see cref="EnergyWh"/> and <see cref="MeanUtilizationPct"/> only with <c>metric=energy</c> (informational, never priced).</summary>
public sealed record UsageBucket(
    DateTimeOffset Start, string Key, decimal GpuSeconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? EnergyWh = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? MeanUtilizationPct = null);

public sealed record UsageReport(
    string TenantId, DateTimeOffset From, DateTimeOffset To, Granularity Granularity, UsageGrouping GroupBy,
    IReadOnlyList<UsageBucket> Buckets, decimal TotalGpuSeconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? TotalEnergyWh = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? MeanUtilizationPct = null);

/// <summary>A validated usage question: a tenant, an aligned half-open time range, a bucket size, a grouping, and optionally one lease.</summary>
public sealed record UsageQuery(string TenantId, DateTimeOffset From, DateTimeOffset To, Granularity Granularity, UsageGrouping GroupBy, Guid? LeaseId = null)
{
    public static readonly TimeSpan MaxMinuteRange = TimeSpan.FromDays(7);
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(366);

    public TimeSpan BucketSize => Granularity switch
    {
        Granularity.Minute => TimeSpan.FromMinutes(1),
        Granularity.Hour => TimeSpan.FromHours(1),
        _ => TimeSpan.FromDays(1),
    };

    /// <summary>What is wrong with the question, or null when it can be answered.</summary>
    public string? Problem()
    {
        if (From >= To)
        {
            return "'from' must be before 'to'.";
        }

        if (From.UtcTicks % BucketSize.Ticks != 0 || To.UtcTicks % BucketSize.Ticks != 0)
        {
            return $"'from' and 'to' must fall on {Granularity.ToString().ToLowerInvariant()} boundaries (UTC).";
        }

        var limit = Granularity == Granularity.Minute ? MaxMinuteRange : MaxRange;
        return To - From > limit ? $"At most {limit.TotalDays} days at {Granularity.ToString().ToLowerInvariant()} granularity." : null;
    }

    public DateTimeOffset BucketOf(DateTimeOffset at) => new(at.UtcTicks - at.UtcTicks % BucketSize.Ticks, TimeSpan.Zero);

    /// <summary>Node grouping and a single lease are answered from the stored windows, which know both.</summary>
    public bool ReadsWindows => Granularity == Granularity.Minute || GroupBy == UsageGrouping.Node || LeaseId is not null;

    public string KeyOf(string sku, Guid leaseId, Billing.Contracts.PricingModel pricing, string? nodeId = null) => GroupBy switch
    {
        UsageGrouping.Sku => sku,
        UsageGrouping.Lease => leaseId.ToString(),
        UsageGrouping.Node => nodeId ?? "unknown",
        _ => pricing.ToString(),
    };
}
