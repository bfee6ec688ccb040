using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Billing.ServiceDefaults.Telemetry;

namespace Billing.Ledger;

/// <summary>
/// The ledger's instruments. Its lag is the age of the oldest usage batch it holds but has not yet
/// stored (by the time the fleet sent it): while the consumer works through a backlog that is how far
/// behind it is, and it is zero when everything received is stored.
/// </summary>
public sealed class LedgerMetrics
{
    public const string MeterName = BillingTelemetry.Prefix + "Ledger";

    /// <summary>The ledger's own spans: a transaction that stores many messages at once.</summary>
    public static readonly ActivitySource Tracing = new(MeterName);

    private readonly Counter<long> stored;
    private readonly Counter<long> duplicates;
    private readonly ConcurrentDictionary<object, DateTimeOffset> storing = new();

    public LedgerMetrics(IMeterFactory meters, TimeProvider time)
    {
        var meter = meters.Create(MeterName);
        stored = meter.CreateCounter<long>("billing.ledger.usage.windows.stored", "{window}", "Usage windows appended to their lease streams.");
        duplicates = meter.CreateCounter<long>("billing.ledger.usage.windows.duplicate", "{window}", "Usage windows received again and skipped (redelivery, replay).");
        meter.CreateObservableGauge("billing.ledger.lag", () => storing.IsEmpty ? 0 : (time.GetUtcNow() - storing.Values.Min()).TotalSeconds,
            "s", "Age of the oldest usage batch received and not yet stored.");
    }

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
