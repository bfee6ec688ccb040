using System.Numerics;
using Billing.Fleet.Metering;

namespace Billing.Fleet.Nodes;

/// <summary>
/// A node's health as seen from its heartbeats. Answered by name ("Healthy"), the same strings as
/// <see cref="Billing.Contracts.Fleet.NodeHealthChanged.Health"/> carries.
/// </summary>
public enum NodeState
{
    Unknown,
    Healthy,
    Degraded,
    Unreachable,
}

public static class NodeHealth
{
    /// <summary>Healthy while heartbeats arrive within the timeout; Degraded when some GPUs report failed.</summary>
    public static NodeState Of(HeartbeatSample? last, int gpuCount, DateTimeOffset now, TimeSpan timeout) => last switch
    {
        null => NodeState.Unknown,
        { } sample when now - sample.ObservedAt > timeout => NodeState.Unreachable,
        { } sample when sample.HealthyCount < gpuCount => NodeState.Degraded,
        _ => NodeState.Healthy,
    };

    /// <summary>Whether a node in this state can take new leases (when not drained).</summary>
    public static bool TakesLeases(this NodeState state) => state switch
    {
        NodeState.Healthy or NodeState.Degraded => true,
        NodeState.Unknown or NodeState.Unreachable => false,
    };

    public static ulong AllGpus(int gpuCount) => gpuCount == 64 ? ulong.MaxValue : (1UL << gpuCount) - 1;

    public static int Count(ulong mask) => BitOperations.PopCount(mask);
}
