using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Billing.Fleet.Metering;
using Billing.ServiceDefaults.Telemetry;

namespace Billing.Fleet;

/// <summary>
/// The fleet's instruments: counted where a heartbeat is answered and where usage leaves through the
/// outbox; the gauges read what this silo last saw of its nodes, leases and spot markets.
/// </summary>
public sealed class FleetMetrics
{
    public const string MeterName = BillingTelemetry.Prefix + "Fleet";

    /// <summary>The fleet's own spans: the work a batch does for many requests.</summary>
    public static readonly ActivitySource Tracing = new(MeterName);

    private readonly Counter<long> accepted;
    private readonly Counter<long> refused;
    private readonly Counter<long> published;
    private readonly ConcurrentDictionary<string, NodeGpus> nodes = new();
    private readonly ConcurrentDictionary<Guid, (string Sku, string State)> leases = new();
    private readonly ConcurrentDictionary<string, (decimal Price, string Currency, double IdleShare)> spot = new();

    public FleetMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        accepted = meter.CreateCounter<long>("billing.fleet.heartbeats.accepted", "{heartbeat}", "Heartbeats stored and answered 202.");
        refused = meter.CreateCounter<long>("billing.fleet.heartbeats.refused", "{heartbeat}", "Heartbeats not stored, by reason (a duplicate is answered 200).");
        published = meter.CreateCounter<long>("billing.fleet.usage.windows.published", "{window}", "Closed usage windows published with a broker confirm.");
        meter.CreateObservableGauge("billing.fleet.gpus", ObserveGpus, "{gpu}", "GPUs of the registered nodes by SKU and state (free, leased, unhealthy).");
        meter.CreateObservableGauge("billing.fleet.leases", ObserveLeases, "{lease}", "Leases not yet ended, by SKU and state.");
        meter.CreateObservableGauge("billing.fleet.spot.price", () => spot.Select(s => new Measurement<double>(
            (double)s.Value.Price, new("sku", s.Key), new("currency", s.Value.Currency))), "{currency}/h", "Spot price per GPU-hour at the last tick.");
        meter.CreateObservableGauge("billing.fleet.spot.idle_share", () => spot.Select(s => new Measurement<double>(
            s.Value.IdleShare, new KeyValuePair<string, object?>("sku", s.Key))), "1", "Smoothed idle share of the SKU's pool at the last tick.");
    }

    public void Heartbeat(HeartbeatAdmission admission)
    {
        if (admission == HeartbeatAdmission.Accepted)
        {
            accepted.Add(1);
        }
        else
        {
            refused.Add(1, new KeyValuePair<string, object?>("reason", Reason(admission)));
        }
    }

    public void Published(int windows) => published.Add(windows);

    /// <summary>Called after every node grain call: stores only a change (an update allocates in the dictionary).</summary>
    public void Node(string nodeId, string sku, int free, int leased, int unhealthy)
    {
        var gpus = new NodeGpus(sku, free, leased, unhealthy);
        if (!nodes.TryGetValue(nodeId, out var had) || had != gpus)
        {
            nodes[nodeId] = gpus;
        }
    }

    public void Lease(Guid leaseId, string sku, string state, bool ended)
    {
        if (ended)
        {
            leases.TryRemove(leaseId, out _);
        }
        else
        {
            leases[leaseId] = (sku, state);
        }
    }

    public void Spot(string sku, decimal price, string currency, double idleShare) => spot[sku] = (price, currency, idleShare);

    private static string Reason(HeartbeatAdmission admission) => admission switch
    {
        HeartbeatAdmission.Duplicate => "duplicate",
        HeartbeatAdmission.OutOfOrder => "out_of_order",
        HeartbeatAdmission.TooFarInFuture => "too_far_in_future",
        HeartbeatAdmission.TooLate => "too_late",
        HeartbeatAdmission.UnknownNode => "unknown_node",
        HeartbeatAdmission.UnknownGpu => "unknown_gpu",
        HeartbeatAdmission.Accepted => "accepted",
    };

    private IEnumerable<Measurement<int>> ObserveGpus() =>
        nodes.Values.GroupBy(n => n.Sku).SelectMany(g => new[]
        {
            new Measurement<int>(g.Sum(n => n.Free), new("sku", g.Key), new("state", "free")),
            new Measurement<int>(g.Sum(n => n.Leased), new("sku", g.Key), new("state", "leased")),
            new Measurement<int>(g.Sum(n => n.Unhealthy), new("sku", g.Key), new("state", "unhealthy")),
        });

    private IEnumerable<Measurement<int>> ObserveLeases() =>
        leases.Values.GroupBy(l => l).Select(g => new Measurement<int>(g.Count(), new("sku", g.Key.Sku), new("state", g.Key.State)));

    private readonly record struct NodeGpus(string Sku, int Free, int Leased, int Unhealthy);
}
