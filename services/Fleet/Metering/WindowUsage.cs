namespace Billing.Fleet.Metering;

/// <summary>Billed GPU-milliseconds of a minute window, and the leased ones not billed (GPU or node unhealthy).</summary>
public readonly record struct WindowUsage(DateTimeOffset WindowStart, long GpuMilliseconds, long UnbilledGpuMilliseconds = 0)
{
    public decimal GpuSeconds => GpuMilliseconds / 1000m;

    public decimal UnbilledGpuSeconds => UnbilledGpuMilliseconds / 1000m;

    public bool IsEmpty => GpuMilliseconds == 0 && UnbilledGpuMilliseconds == 0;

    public WindowUsage Add(WindowUsage other) => this with
    {
        GpuMilliseconds = GpuMilliseconds + other.GpuMilliseconds,
        UnbilledGpuMilliseconds = UnbilledGpuMilliseconds + other.UnbilledGpuMilliseconds,
    };
}
