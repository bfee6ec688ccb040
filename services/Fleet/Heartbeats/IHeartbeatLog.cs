using Billing.Fleet.Metering;
using Billing.Fleet.Telemetry;

namespace Billing.Fleet.Heartbeats;

/// <summary>
/// The durable record of every accepted heartbeat: written before the API answers 202, read back
/// to rebuild a grain's metering state after a crash.
/// </summary>
public interface IHeartbeatLog
{
    /// <summary>Stores the heartbeat, and its GPU telemetry when given, in one statement.</summary>
    Task AppendAsync(string nodeId, HeartbeatSample sample, GpuReadings? readings = null, CancellationToken cancellationToken = default);

    Task<HeartbeatSample?> LastAsync(string nodeId, CancellationToken cancellationToken = default);

    /// <summary>The node's heartbeats from the last one at or before <paramref name="from"/> on, in order.</summary>
    Task<IReadOnlyList<HeartbeatSample>> ReadFromAsync(string nodeId, DateTimeOffset from, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the node's heartbeats before the last one at or before <paramref name="before"/>
    /// (that one stays: a replay from <paramref name="before"/> starts there); returns how many.
    /// </summary>
    Task<int> PruneAsync(string nodeId, DateTimeOffset before, CancellationToken cancellationToken = default);
}
