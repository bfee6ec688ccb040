namespace Billing.Fleet.Metering;

public readonly record struct WindowUsage(DateTimeOffset WindowStart, long GpuMilliseconds)
{
    public decimal GpuSeconds => GpuMilliseconds / 1000m;
}
