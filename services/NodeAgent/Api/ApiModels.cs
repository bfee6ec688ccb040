namespace Billing.NodeAgent.Api;

public enum PricingModel
{
    OnDemand,
    Spot,
    Reserved,
}

/// <summary>A lease's state as the API names it.</summary>
public enum LeaseState
{
    Pending,
    Running,
    PreemptionScheduled,
    Ended,
    Preempted,
    Interrupted,
}

public sealed record CreateTenant(string Name);

public sealed record TenantCreated(string TenantId, string Name, string ApiKey);

public sealed record RegisterNode(string NodeId, string Sku, int GpuCount, string Region, string? Fabric = null, string? Rack = null);

public sealed record NodeRegistered(string NodeId, string Sku, int GpuCount, string Region, string AgentKey, string? Fabric = null, string? Rack = null);

public sealed record Heartbeat(DateTimeOffset ObservedAt, IReadOnlyList<GpuTelemetry> Gpus);

/// <summary>One GPU in a heartbeat; telemetry the source cannot read is null.</summary>
public sealed record GpuTelemetry(
    int Index,
    string? Uuid,
    bool Healthy,
    double? UtilizationPct,
    double? MemoryUsedMiB,
    double? MemoryTotalMiB,
    double? TemperatureC,
    double? PowerW,
    long? EccUncorrected,
    int? Xid);

/// <summary>A lease request; beyond one node's GPUs, whole nodes of one fabric, and what to do when one fails (Replace, Shrink, End).</summary>
public sealed record RequestLease(string Sku, int GpuCount, PricingModel Pricing, string? Fabric = null, string? OnNodeFailure = null);

/// <summary>One node's part of a lease: when it joined, when heartbeats began to vouch for it, when it left, and what it metered.</summary>
public sealed record LeaseNode(
    string NodeId, string? Rack, IReadOnlyList<int> GpuIndices, string State, DateTimeOffset JoinedAt, DateTimeOffset? AccruesFrom, DateTimeOffset? LeftAt, decimal GpuSeconds);

public sealed record Lease(
    string LeaseId,
    string TenantId,
    string NodeId,
    string Sku,
    PricingModel Pricing,
    IReadOnlyList<int> GpuIndices,
    LeaseState State,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    decimal GpuSeconds,
    bool Settled,
    IReadOnlyList<LeaseNode>? Nodes = null,
    bool Degraded = false,
    int GpuCount = 0);

public sealed record UsageReport(
    string TenantId,
    DateTimeOffset From,
    DateTimeOffset To,
    string Granularity,
    string GroupBy,
    IReadOnlyList<UsageBucket> Buckets,
    decimal TotalGpuSeconds);

public sealed record UsageBucket(DateTimeOffset Start, string Key, decimal GpuSeconds);

public sealed record Invoice(
    string InvoiceId,
    string TenantId,
    string Period,
    string Currency,
    string Status,
    IReadOnlyList<InvoiceLine> Lines,
    decimal Total);

/// <summary>
/// An invoice line; <see cref="Charge"/> "Commitment" bills committed GPU-hours, not metered usage;
/// "Metered" bills a meter's group and tier (<see cref="Metered"/>), with no GPU-seconds.
/// </summary>
public sealed record InvoiceLine(
    string Sku, string Charge, string Pricing, decimal GpuSeconds, decimal QuantityGpuHours, decimal UnitPrice, decimal Amount,
    string? AdjustsPeriod = null, MeteredQuantity? Metered = null)
{
    public bool IsUsage => Charge != "Commitment";
}

/// <summary>A metered line's quantity: which meter, group and tier, and per how many units its price is.</summary>
public sealed record MeteredQuantity(string Meter, string Group, int Tier, decimal Quantity, decimal UnitsPerPrice);

public sealed record IssueKey(string Role, string Name);

public sealed record KeyIssued(string KeyId, string Role, string Name, string Key);

/// <summary>The answer to a post of CloudEvents: indexes of the events stored now, of copies of stored ones, and of those refused.</summary>
public sealed record IngestAnswer(IReadOnlyList<int> Accepted, IReadOnlyList<int> Duplicates, IReadOnlyList<RejectedEvent> Rejected);

public sealed record RejectedEvent(int Index, string? Id, string Problem);

public sealed record MeterUsageReport(string TenantId, string Meter, string Granularity, string? GroupBy, IReadOnlyList<MeterUsageBucket> Buckets, decimal Total);

public sealed record MeterUsageBucket(DateTimeOffset Start, string Key, decimal Quantity);

/// <summary>The price book as published; only what the demo reads of it.</summary>
public sealed record PriceList(string Currency, int MinorUnitDigits, IReadOnlyList<MeterPriceList> Meters);

/// <summary>A meter's prices per <see cref="UnitsPerPrice"/> units, per group (<c>*</c>: any other group).</summary>
public sealed record MeterPriceList(string Meter, string Unit, decimal UnitsPerPrice, IReadOnlyList<GroupPriceList> Groups);

public sealed record GroupPriceList(string Group, IReadOnlyList<TierPrice> Tiers);

/// <summary>A graduated tier: up to the month's cumulative quantity <see cref="UpTo"/> (none: no end) at <see cref="Price"/>.</summary>
public sealed record TierPrice(decimal? UpTo, decimal Price);

/// <summary>An RFC 7807 problem body; every member is optional on the wire.</summary>
public sealed record Problem(string? Type, string? Title, int? Status, string? Detail);
