namespace Billing.Fleet.Telemetry;

/// <summary>GPU telemetry settings (section <c>Billing:Telemetry</c>).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Billing:Telemetry";

    /// <summary>How long per-heartbeat GPU telemetry (and so its minute rollups, lease energy and idle spans) is kept.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(35);

    /// <summary>How long a leased GPU must stay under the utilization threshold to be listed as idle.</summary>
    public TimeSpan IdleFor { get; set; } = TimeSpan.FromHours(1);
}
