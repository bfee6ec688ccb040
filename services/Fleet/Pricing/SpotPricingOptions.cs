namespace Billing.Fleet.Pricing;

/// <summary>Spot price settings (section <c>Billing:Spot</c>).</summary>
public sealed class SpotPricingOptions
{
    public const string Section = "Billing:Spot";

    /// <summary>How often the job moves prices; a tick is identified by its start on this grid.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Half-life of the idle-capacity smoothing.</summary>
    public TimeSpan HalfLife { get; set; } = TimeSpan.FromHours(6);

    /// <summary>The most a price may move in one tick, as a fraction of the last price.</summary>
    public decimal MaxStep { get; set; } = 0.01m;

    /// <summary>Smaller moves than this fraction of the last price are not published.</summary>
    public decimal MinChange { get; set; } = 0.005m;
}
