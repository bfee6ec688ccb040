namespace Billing.ServiceDefaults.GpuEnergy;

/// <summary>Where and when a lease ran: what its energy is measured over.</summary>
public sealed record LeasePlacement(Guid LeaseId, string NodeId, IReadOnlyList<int> GpuIndices, DateTimeOffset StartedAt, DateTimeOffset? EndedAt);

/// <summary>
/// A lease's GPU energy and utilization per time bucket, by the fleet's rule (power integrated over exactly the
/// GPU-seconds metering bills). The ledger and invoicing read it through this port; the fleet implements it from
/// its telemetry, so neither depends on the fleet and the rule has one home.
/// </summary>
public interface ILeaseEnergyReader
{
    /// <summary>
    /// The lease's figures in [<paramref name="from"/>, <paramref name="to"/>), per bucket of <paramref name="bucket"/>
    /// aligned to UTC (keyed by the bucket's start); buckets with no billed second are absent.
    /// </summary>
    Task<IReadOnlyDictionary<DateTimeOffset, EnergySum>> ReadAsync(
        LeasePlacement lease, DateTimeOffset from, DateTimeOffset to, TimeSpan bucket, CancellationToken cancellationToken);
}
