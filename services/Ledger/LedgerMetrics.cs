using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Billing.ServiceDefaults.Telemetry;

namespace Billing.Ledger;

/// <summary>
/// The ledger's instruments. Its lag is the age of the oldest usage batch it holds but has not yet
/// stored (by the time the fleet sent it): while the consumer works through a backlog that is how far
/// behind it is, and it is zero when everything received is stored. The projections' lag is how long
/// the oldest event an async projection has not yet applied has been stored, per projection shard
/// (read by <see cref="Usage.ProjectionLag"/>).
/// </summary>
public sealed class LedgerMetrics
{
    public const string MeterName = BillingTelemetry.Prefix + "Ledger";

    /// <summary>The ledger's own spans: a transaction that stores many messages at once.</summary>
    public static readonly ActivitySource Tracing = new(MeterName);

    private readonly Counter<long> stored;
    private readonly Counter<long> duplicates;
    private readonly ConcurrentDictionary<object, DateTimeOffset> storing = new();
    private IReadOnlyList<Usage.ProjectionBehind> projections = [];

    public LedgerMetrics(IMeterFactory meters, TimeProvider time)
    {
        var meter = meters.Create(MeterName);
        stored = meter.CreateCounter<long>("billing.ledger.usage.windows.stored", "{window}", "Usage windows appended to their lease streams.");
        duplicates = meter.CreateCounter<long>("billing.ledger.usage.windows.duplicate", "{window}", "Usage windows received again and skipped (redelivery, replay).");
        meter.CreateObservableGauge("billing.ledger.lag", () => storing.IsEmpty ? 0 : (time.GetUtcNow() - storing.Values.Min()).TotalSeconds,
            "s", "Age of the oldest usage batch received and not yet stored.");
        meter.CreateObservableGauge("billing.ledger.projection.lag", () => projections.Select(p =>
                new Measurement<double>(p.OldestUnprojected is { } oldest ? Math.Max(0, (time.GetUtcNow() - oldest).TotalSeconds) : 0, new KeyValuePair<string, object?>("shard", p.Shard))),
            "s", "Age of the oldest stored event an async projection has not applied yet.");
        meter.CreateObservableGauge("billing.ledger.projection.behind", () => projections.Select(p =>
                new Measurement<long>(p.Events, new KeyValuePair<string, object?>("shard", p.Shard))),
            "{event}", "Events stored beyond an async projection's progress.");
    }

    /// <summary>The projections' last measured progress, shown by the gauges until the next.</summary>
    public void ProjectionsBehind(IReadOnlyList<Usage.ProjectionBehind> behind) => projections = behind;

    /// <summary>Marks a batch as being stored from now until the returned scope ends.</summary>
    public IDisposable Storing(DateTimeOffset sentAt)
    {
        var key = new object();
        storing[key] = sentAt;
        return new Done(() => storing.TryRemove(key, out _));
    }

    public void Stored(int windows, int duplicate)
    {
        stored.Add(windows);
        duplicates.Add(duplicate);
    }

    private sealed class Done(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
