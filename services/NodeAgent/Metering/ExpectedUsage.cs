using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Metering;

/// <summary>
/// The metering rule, computed on the agent's side from the heartbeats the API acknowledged, so a
/// demo can check the platform's numbers instead of trusting them. Between consecutive heartbeats
/// t(i) and t(i+1), each leased GPU reported healthy in both accrues t(i+1) − t(i) when the gap is at
/// most the timeout, clipped to the lease's [start, end]. Whole milliseconds, nothing rounded.
/// </summary>
public static class ExpectedUsage
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static decimal GpuSeconds(IReadOnlyList<Heartbeat> heartbeats, IReadOnlyCollection<int> gpuIndices, DateTimeOffset start, DateTimeOffset? end) =>
        Windows(heartbeats, gpuIndices, start, end).Values.Sum() / 1000m;

    /// <summary>GPU-milliseconds per UTC minute window (windows with none are absent), in window order.</summary>
    public static SortedDictionary<DateTimeOffset, long> Windows(
        IReadOnlyList<Heartbeat> heartbeats, IReadOnlyCollection<int> gpuIndices, DateTimeOffset start, DateTimeOffset? end)
    {
        var windows = new SortedDictionary<DateTimeOffset, long>();
        var ordered = heartbeats.DistinctBy(h => h.ObservedAt).OrderBy(h => h.ObservedAt).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            var (from, to) = (ordered[i - 1], ordered[i]);
            if (to.ObservedAt - from.ObservedAt > Timeout)
            {
                continue;
            }

            var gpus = gpuIndices.Count(index => IsHealthy(from, index) && IsHealthy(to, index));
            var sliceStart = from.ObservedAt > start ? from.ObservedAt : start;
            var sliceEnd = end is { } e && e < to.ObservedAt ? e : to.ObservedAt;
            for (var cursor = sliceStart; gpus > 0 && cursor < sliceEnd;)
            {
                var windowStart = new DateTimeOffset(cursor.UtcTicks / Window.Ticks * Window.Ticks, TimeSpan.Zero);
                var windowEnd = windowStart + Window < sliceEnd ? windowStart + Window : sliceEnd;
                var milliseconds = (windowEnd - cursor).Ticks / TimeSpan.TicksPerMillisecond;
                if (milliseconds > 0)
                {
                    windows[windowStart] = windows.GetValueOrDefault(windowStart) + gpus * milliseconds;
                }

                cursor = windowEnd;
            }
        }

        return windows;
    }

    /// <summary>Healthy means: reported, flagged healthy, and no uncorrectable ECC or XID error.</summary>
    public static bool IsHealthy(Heartbeat heartbeat, int index) =>
        heartbeat.Gpus.FirstOrDefault(g => g.Index == index) is { Healthy: true } gpu && (gpu.EccUncorrected ?? 0) == 0 && (gpu.Xid ?? 0) == 0;
}
