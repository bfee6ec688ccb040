using System.Numerics;
using Billing.Fleet.Metering;
using FsCheck;
using FsCheck.Xunit;

namespace Billing.Fleet.Tests.Metering;

/// <summary>Invariants of the metering rule over random heartbeat histories (FsCheck picks the seeds and shrinks them).</summary>
public sealed class Metering_properties
{
    private static readonly DateTimeOffset Origin = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);

    private sealed record History(LeaseTerms Lease, IReadOnlyList<HeartbeatSample> Heartbeats);

    /// <summary>Heartbeats 1 ms to 60 s apart (some gaps beyond the timeout), random health, a lease inside or across them.</summary>
    private static History Generate(int seed)
    {
        var random = new Random(seed);
        var at = Origin.AddMilliseconds(random.Next(0, 120_000));
        var heartbeats = new List<HeartbeatSample>();
        for (var i = random.Next(2, 60); i > 0; i--)
        {
            var healthy = random.Next(4) == 0 ? (ulong)random.Next(256) : 0xFFUL;
            heartbeats.Add(new HeartbeatSample(at, healthy));
            at = at.AddMilliseconds(random.Next(4) == 0 ? random.Next(1, 60_000) : random.Next(14_000, 16_000));
        }

        var first = heartbeats[0].ObservedAt;
        var last = heartbeats[^1].ObservedAt;
        var span = (long)(last - first).TotalMilliseconds + 20_000;
        var start = first.AddMilliseconds(random.NextInt64(-10_000, span));
        DateTimeOffset? end = random.Next(2) == 0 ? null : start.AddMilliseconds(random.NextInt64(0, span));
        return new History(new LeaseTerms((ulong)random.Next(1, 256), start, end), heartbeats);
    }

    private static long Direct(History history)
    {
        long total = 0;
        for (var i = 1; i < history.Heartbeats.Count; i++)
        {
            var (from, to) = (history.Heartbeats[i - 1], history.Heartbeats[i]);
            if (to.ObservedAt - from.ObservedAt > Timeout)
            {
                continue;
            }

            var start = from.ObservedAt > history.Lease.Start ? from.ObservedAt : history.Lease.Start;
            var end = history.Lease.End is { } e && e < to.ObservedAt ? e : to.ObservedAt;
            var gpus = BitOperations.PopCount(history.Lease.GpuMask & from.HealthyMask & to.HealthyMask);
            total += end > start ? gpus * (long)(end - start).TotalMilliseconds : 0;
        }

        return total;
    }

    private static (LeaseMeter Meter, List<WindowUsage> Closed) Feed(LeaseMeter meter, IReadOnlyList<HeartbeatSample> heartbeats)
    {
        var closed = new List<WindowUsage>();
        for (var i = 1; i < heartbeats.Count; i++)
        {
            (meter, var windows) = meter.Accrue(heartbeats[i - 1], heartbeats[i], Timeout);
            closed.AddRange(windows);
        }

        return (meter, closed);
    }

    [Property(MaxTest = 300)]
    public bool Windows_sum_to_the_direct_interval_sum(int seed)
    {
        var history = Generate(seed);
        var (meter, closed) = Feed(LeaseMeter.Start(history.Lease), history.Heartbeats);
        return closed.Sum(w => w.GpuMilliseconds) + meter.OpenGpuMilliseconds == Direct(history);
    }

    [Property(MaxTest = 300)]
    public bool Billed_and_unbilled_together_cover_every_leased_gpu_millisecond(int seed)
    {
        var history = Generate(seed);
        var (meter, closed) = Feed(LeaseMeter.Start(history.Lease), history.Heartbeats);
        var windows = closed.Concat(meter.OpenWindows.Values).ToList();
        var first = history.Heartbeats[0].ObservedAt;
        var last = history.Heartbeats[^1].ObservedAt;
        var from = first > history.Lease.Start ? first : history.Lease.Start;
        var to = history.Lease.End is { } end && end < last ? end : last;
        var leased = to > from ? BitOperations.PopCount(history.Lease.GpuMask) * (long)(to - from).TotalMilliseconds : 0;
        return windows.Sum(w => w.GpuMilliseconds + w.UnbilledGpuMilliseconds) == leased;
    }

    [Property(MaxTest = 300)]
    public bool No_window_exceeds_the_leased_gpus_times_sixty_seconds(int seed)
    {
        var history = Generate(seed);
        var (meter, closed) = Feed(LeaseMeter.Start(history.Lease), history.Heartbeats);
        var cap = BitOperations.PopCount(history.Lease.GpuMask) * 60_000L;
        var windows = closed.Concat(meter.OpenWindows.Values).ToList();
        return windows.All(w => w.GpuMilliseconds <= cap && w.WindowStart == MeteringRules.WindowStartOf(w.WindowStart))
            && windows.Select(w => w.WindowStart).Distinct().Count() == windows.Count;
    }

    [Property(MaxTest = 300)]
    public bool Replaying_heartbeats_after_a_crash_yields_the_same_windows(int seed)
    {
        var history = Generate(seed);
        var (_, uninterrupted) = Feed(LeaseMeter.Start(history.Lease), history.Heartbeats);

        // Crash part way: everything not yet closed is lost; resume from the checkpoint and replay from the log.
        var crashAt = new Random(seed).Next(1, history.Heartbeats.Count);
        var (beforeCrash, closedBefore) = Feed(LeaseMeter.Start(history.Lease), history.Heartbeats.Take(crashAt + 1).ToList());
        var checkpoint = beforeCrash.Checkpoint;
        var replayFrom = history.Heartbeats.LastOrDefault(h => h.ObservedAt <= checkpoint);
        var replay = history.Heartbeats.SkipWhile(h => h.ObservedAt < (replayFrom == default ? checkpoint : replayFrom.ObservedAt)).ToList();
        var (_, closedAfter) = Feed(LeaseMeter.Resume(history.Lease, checkpoint), replay);

        var recovered = closedBefore.Where(w => w.WindowStart < checkpoint).Concat(closedAfter).ToList();
        return recovered.SequenceEqual(uninterrupted);
    }
}
