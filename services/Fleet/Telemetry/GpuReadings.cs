namespace Billing.Fleet.Telemetry;

/// <summary>
/// One heartbeat's telemetry, one entry per reported GPU (parallel arrays, in the order reported):
/// what the heartbeat log stores beside the heartbeat, in the same statement.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GpuReadings(
    [property: Id(0)] int[] Gpus,
    [property: Id(1)] double?[] UtilizationPct,
    [property: Id(2)] double?[] MemoryUsedMiB,
    [property: Id(3)] double?[] TemperatureC,
    [property: Id(4)] double?[] PowerW,
    [property: Id(5)] long?[] EccUncorrected,
    [property: Id(6)] int?[] Xid);
