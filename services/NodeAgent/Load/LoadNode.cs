using Billing.NodeAgent.Agent;
using Billing.NodeAgent.Api;
using Billing.NodeAgent.Fleet;

namespace Billing.NodeAgent.Load;

/// <summary>A node under load: its fixed telemetry, its sender for the current phase, and the time of its last heartbeat.</summary>
public sealed class LoadNode(FleetNode node)
{
    public FleetNode Node => node;

    public IReadOnlyList<GpuTelemetry> Gpus { get; } = SimulatedNode.SteadyGpus(node.NodeId, node.GpuCount);

    public NodeSender? Sender { get; set; }

    public DateTimeOffset Last { get; set; } = DateTimeOffset.MinValue;

    /// <summary>Posts the heartbeat observed at <paramref name="observedAt"/>, retrying while the API is unavailable.</summary>
    public async Task<HeartbeatResult> PostAsync(DateTimeOffset observedAt, CancellationToken ct)
    {
        var result = await Sender!.DeliverAsync(new Heartbeat(observedAt, Gpus), ct);
        Last = observedAt;
        return result;
    }
}
