using System.Text.Json;

namespace Billing.OpsCli.Api;

/// <summary>One event of a stream, as <c>GET /v1/ops/streams/{id}</c> returns it.</summary>
public sealed record StoredEvent(long Sequence, long Version, string Type, DateTimeOffset Timestamp, JsonElement Data);

public sealed record ProjectionRebuilt(string Name, double Seconds);

public sealed record LineDifference(
    string Sku, string Charge, decimal BilledGpuSeconds, decimal RecomputedGpuSeconds, decimal BilledAmount, decimal RecomputedAmount);

public sealed record VerificationReport(
    Guid InvoiceId, string Status, bool Equal, string StoredHash, string ReplayedHash, string BilledHash, string RecomputedHash,
    IReadOnlyList<LineDifference> Differences);

/// <summary>The body of <c>POST /v1/ops/replay</c>; null members are left out, which the server reads as "all".</summary>
public sealed record StartReplay(string Consumer, IReadOnlyList<string>? EventTypes, DateTimeOffset? From, DateTimeOffset? To);

public sealed record ReplayStarted(Guid ReplayId, string Consumer, long Total);

public sealed record ReplayStatus(Guid ReplayId, string Consumer, long Total, long Published, bool Done, string? Error);

public sealed record JobRan(string JobId, DateTimeOffset RanAt);

/// <summary>An RFC 7807 problem; <see cref="Errors"/> holds a validation problem's messages per field.</summary>
public sealed record Problem(string? Type, string? Title, int? Status, string? Detail, IReadOnlyDictionary<string, string[]>? Errors);
