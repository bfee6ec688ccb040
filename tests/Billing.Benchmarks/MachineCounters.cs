using System.Diagnostics;
using System.Globalization;

namespace Billing.Benchmarks;

/// <summary>
/// Where a phase's time went on this machine: this process's CPU (host and load client together), the
/// machine's busy and idle time from /proc/stat (PostgreSQL, the broker and other tenants of the machine
/// included), garbage collections and bytes allocated, read as the difference between two snapshots.
/// </summary>
public sealed record MachineCounters(TimeSpan ProcessCpu, long MachineBusy, long MachineTotal, long Allocated, int Gen0, int Gen1, int Gen2, TimeSpan GcPause, long Timestamp)
{
    public static MachineCounters Read()
    {
        var (busy, total) = MachineJiffies();
        return new(Process.GetCurrentProcess().TotalProcessorTime, busy, total, GC.GetTotalAllocatedBytes(),
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(), Stopwatch.GetTimestamp());
    }

    /// <summary>The 1, 5 and 15 minute load averages, as /proc/loadavg gives them.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>One line: what the work since <paramref name="before"/> cost, per <paramref name="unit"/> where a count is given.</summary>
    public string Since(MachineCounters before, long count, string unit)
    {
        var wall = Stopwatch.GetElapsedTime(before.Timestamp, Timestamp);
        var process = (ProcessCpu - before.ProcessCpu) / (wall * Environment.ProcessorCount);
        var machine = MachineTotal == before.MachineTotal ? double.NaN : (double)(MachineBusy - before.MachineBusy) / (MachineTotal - before.MachineTotal);
        var perUnit = count == 0 ? "" : $", {(ProcessCpu - before.ProcessCpu).TotalMicroseconds / count:0} µs CPU and {(Allocated - before.Allocated) / count / 1024.0:0.0} KiB allocated per {unit}";
        return $"this process {process:P0} of the machine, machine busy {(double.IsNaN(machine) ? "unknown" : machine.ToString("P0", CultureInfo.InvariantCulture))}" +
            $" (others: {Math.Max(0, machine - process):P0}){perUnit}; GC {Gen0 - before.Gen0}/{Gen1 - before.Gen1}/{Gen2 - before.Gen2} (gen0/1/2), " +
            $"paused {(GcPause - before.GcPause).TotalMilliseconds:0} ms";
    }

    /// <summary>Busy and total jiffies of all CPUs (idle and iowait count as not busy); zeros where /proc/stat is not there.</summary>
    private static (long Busy, long Total) MachineJiffies()
    {
        if (!File.Exists("/proc/stat"))
        {
            return (0, 0);
        }

        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToList();
        var total = fields.Sum();
        return (total - fields[3] - fields[4], total);
    }
}
