using System.Numerics;

namespace Billing.Fleet.Metering;

/// <summary>
/// What metering needs from one heartbeat: when the agent observed the node, and which GPUs it
/// reported healthy (bit i set = GPU index i healthy). Nodes have at most 64 GPUs.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct HeartbeatSample([property: Id(0)] DateTimeOffset ObservedAt, [property: Id(1)] ulong HealthyMask)
{
    public int HealthyCount => BitOperations.PopCount(HealthyMask);
}
