using System.Diagnostics;
using System.Globalization;
using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;

namespace Billing.Benchmarks;

/// <summary>
/// The whole fleet heartbeating at its cadence through the node grains: each period the billing clock
/// moves one cadence on and every node posts one heartbeat, spread evenly over the period in real
/// time (one slice a second), as agents on their own timers would. Sustained when every period's
/// heartbeats are acknowledged within the period. The CPU it leaves free is read twice: this
/// process's share of the machine, and the machine's idle time from /proc/stat (PostgreSQL and the
/// broker included, and anything else the machine runs).
/// </summary>
public static class FleetHeartbeatLoad
{
    public static async Task<bool> RunAsync(BenchHost host, IReadOnlyList<string> nodeIds, int gpus, TimeSpan cadence, int periods, CancellationToken stop)
    {
        var all = NodeHealth.AllGpus(gpus);
        var slices = Math.Max(1, (int)cadence.TotalSeconds);
        var latencies = new List<long>();
        var refused = 0;
        var late = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var machineBefore = MachineTimes();
        var began = Stopwatch.GetTimestamp();
        for (var period = 0; period < periods; period++)
        {
            host.Clock.Advance(cadence);
            var observedAt = MeteringRules.ToMillisecond(host.Clock.GetUtcNow());
            var periodStart = Stopwatch.GetTimestamp();
            for (var slice = 0; slice < slices; slice++)
            {
                var batch = nodeIds.Skip(slice * nodeIds.Count / slices).Take(((slice + 1) * nodeIds.Count / slices) - (slice * nodeIds.Count / slices));
                var timed = await Task.WhenAll(batch.Select(async nodeId =>
                {
                    var t0 = Stopwatch.GetTimestamp();
                    var admission = await host.Grains.GetGrain<INodeGrain>(nodeId).RecordHeartbeat(new HeartbeatSample(observedAt, all), all);
                    return (Ticks: Stopwatch.GetTimestamp() - t0, Accepted: admission == HeartbeatAdmission.Accepted);
                }));
                latencies.AddRange(timed.Select(t => t.Ticks));
                refused += timed.Count(t => !t.Accepted);
                var due = TimeSpan.FromSeconds(cadence.TotalSeconds * (slice + 1) / slices) - Stopwatch.GetElapsedTime(periodStart);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, stop);
                }
            }

            late += Stopwatch.GetElapsedTime(periodStart) > cadence + TimeSpan.FromMilliseconds(250) ? 1 : 0;
        }

        var wall = Stopwatch.GetElapsedTime(began);
        var hostShare = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore) / (wall * Environment.ProcessorCount);
        var machineAfter = MachineTimes();
        var machineIdle = machineAfter.Total == machineBefore.Total ? double.NaN
            : (double)(machineAfter.Idle - machineBefore.Idle) / (machineAfter.Total - machineBefore.Total);
        var sent = periods * nodeIds.Count;
        var ok = refused == 0 && late == 0;
        Console.WriteLine($"fleet heartbeats:    {nodeIds.Count} nodes every {cadence.TotalSeconds:0} s for {periods} periods: {sent - refused} of {sent} accepted, " +
            $"{sent / wall.TotalSeconds:0.0}/s over {wall.TotalSeconds:0.0} s, {periods - late} of {periods} periods on time -> {(ok ? "sustained" : "NOT sustained")}");
        Console.WriteLine($"heartbeat latency:   {Latency.Summary(latencies)}");
        Console.WriteLine($"CPU:                 this host used {hostShare:P1} of the machine ({hostShare * Environment.ProcessorCount:0.00} of {Environment.ProcessorCount} cores), " +
            $"leaving {1 - hostShare:P1} free of it; " +
            $"machine idle {(double.IsNaN(machineIdle) ? "unknown" : machineIdle.ToString("P1", CultureInfo.InvariantCulture))} (/proc/stat: database, broker and all else included)");
        return ok;
    }

    /// <summary>Idle and total jiffies of all CPUs; zeros where /proc/stat is not there.</summary>
    private static (long Idle, long Total) MachineTimes()
    {
        if (!File.Exists("/proc/stat"))
        {
            return (0, 0);
        }

        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToList();
        return (fields[3] + fields[4], fields.Sum());
    }
}
