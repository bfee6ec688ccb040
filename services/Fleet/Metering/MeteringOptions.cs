namespace Billing.Fleet.Metering;

/// <summary>Metering settings (section <c>Billing:Metering</c>).</summary>
public sealed class MeteringOptions
{
    public const string Section = "Billing:Metering";

    /// <summary>A node with no heartbeat for this long is unreachable; a longer gap accrues nothing.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(45);

    public TimeSpan FutureTolerance { get; set; } = TimeSpan.FromMinutes(2);

    public TimeSpan LateArrivalWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long the heartbeat log keeps a heartbeat (each node's latest is always kept). Never less
    /// than the late-arrival window plus a day: recovery and admission read back that far.
    /// </summary>
    public TimeSpan HeartbeatRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How far a lease's recovery checkpoint may lag: at most this much is replayed after a crash.</summary>
    public TimeSpan CheckpointEvery { get; set; } = TimeSpan.FromMinutes(10);
}
