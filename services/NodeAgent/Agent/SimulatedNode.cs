using System.Security.Cryptography;
using System.Text;
using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Agent;

/// <summary>
/// Telemetry of a node that does not exist. All GPUs are healthy unless failures are injected: with
/// probability <c>failRate</c> per heartbeat a GPU reports failed for a few heartbeats; with
/// probability <c>gapRate</c> the node falls silent for longer than the 45 s timeout.
/// </summary>
public sealed class SimulatedNode(string nodeId, int gpuCount, double failRate = 0, double gapRate = 0, Random? random = null)
{
    public const double H100MemoryMiB = 81559;

    private static readonly TimeSpan MinimumGap = TimeSpan.FromSeconds(46);
    private readonly Random random = random ?? new Random();
    private readonly int[] failedForHeartbeats = new int[gpuCount];
    private readonly string[] uuids = Enumerable.Range(0, gpuCount).Select(i => GpuUuid(nodeId, i)).ToArray();
    private DateTimeOffset silentUntil = DateTimeOffset.MinValue;

    /// <summary>The heartbeat this node posts at <paramref name="now"/>, or null while it is silent.</summary>
    public Heartbeat? Observe(DateTimeOffset now)
    {
        if (now < silentUntil)
        {
            return null;
        }

        if (gapRate > 0 && random.NextDouble() < gapRate)
        {
            silentUntil = now + MinimumGap + TimeSpan.FromSeconds(random.Next(0, 30));
            return null;
        }

        var gpus = new GpuTelemetry[gpuCount];
        for (var i = 0; i < gpuCount; i++)
        {
            if (failRate > 0 && failedForHeartbeats[i] == 0 && random.NextDouble() < failRate)
            {
                failedForHeartbeats[i] = random.Next(1, 5);
            }

            gpus[i] = failedForHeartbeats[i] > 0 ? Failed(i) : Healthy(i);
            failedForHeartbeats[i] = Math.Max(0, failedForHeartbeats[i] - 1);
        }

        return new Heartbeat(now, gpus);
    }

    /// <summary>A fixed all-healthy GPU list, for senders that post many heartbeats and need no variety.</summary>
    public static IReadOnlyList<GpuTelemetry> SteadyGpus(string nodeId, int gpuCount) =>
        Enumerable.Range(0, gpuCount)
            .Select(i => new GpuTelemetry(i, GpuUuid(nodeId, i), true, 95, 60000, H100MemoryMiB, 62, 610, 0, null))
            .ToArray();

    private GpuTelemetry Healthy(int index) => new(
        index,
        uuids[index],
        Healthy: true,
        UtilizationPct: random.Next(0, 101),
        MemoryUsedMiB: random.Next(0, (int)H100MemoryMiB),
        MemoryTotalMiB: H100MemoryMiB,
        TemperatureC: random.Next(30, 80),
        PowerW: Math.Round(80 + random.NextDouble() * 600, 2),
        EccUncorrected: 0,
        Xid: null);

    // XID 48 is a double-bit ECC error: the kind of failure that must stop billing.
    private GpuTelemetry Failed(int index) => new(index, uuids[index], false, 0, null, H100MemoryMiB, random.Next(30, 80), 60, 1, 48);

    private static string GpuUuid(string nodeId, int index)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{nodeId}/{index}"));
        return $"GPU-{new Guid(hash.AsSpan(0, 16))}";
    }
}
