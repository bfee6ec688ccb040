namespace Billing.Fleet.Telemetry;

/// <summary>What a GPU reported in one heartbeat, as lease energy and idle spans read it.</summary>
public readonly record struct GpuReading(double? UtilizationPct, double? PowerW);

/// <summary>One heartbeat of a node: its time, its healthy-GPU mask (as metered) and the readings of the GPUs asked for.</summary>
public sealed record TelemetrySample(DateTimeOffset ObservedAt, ulong HealthyMask, IReadOnlyDictionary<int, GpuReading> Gpus)
{
    public bool IsHealthy(int gpu) => (HealthyMask & (1UL << gpu)) != 0;
}

/// <summary>A node's GPU over one UTC minute.</summary>
public sealed record TelemetryMinute(
    DateTimeOffset Minute,
    int Gpu,
    int Samples,
    double? MeanUtilizationPct,
    double? MeanPowerW,
    double? MaxPowerW,
    double? MaxTemperatureC,
    double? MaxMemoryUsedMiB,
    long? EccUncorrected,
    int XidReports);
