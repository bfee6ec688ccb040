using System.Numerics;
using Billing.Fleet.Metering;

namespace Billing.Fleet.Nodes;

public static class NodeHealth
{
    public const string Unknown = "Unknown";
    public const string Healthy = "Healthy";
    public const string Degraded = "Degraded";
    public const string Unreachable = "Unreachable";

    /// <summary>Healthy while heartbeats arrive within the timeout; Degraded when some GPUs report failed.</summary>
    public static string Of(HeartbeatSample? last, int gpuCount, DateTimeOffset now, TimeSpan timeout) => last switch
    {
        null => Unknown,
        { } sample when now - sample.ObservedAt > timeout => Unreachable,
        { } sample when sample.HealthyCount < gpuCount => Degraded,
        _ => Healthy,
    };

    public static ulong AllGpus(int gpuCount) => gpuCount == 64 ? ulong.MaxValue : (1UL << gpuCount) - 1;

    public static int Count(ulong mask) => BitOperations.PopCount(mask);
}
