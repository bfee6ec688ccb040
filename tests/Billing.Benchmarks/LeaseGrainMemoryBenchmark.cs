using System.Diagnostics;
using Billing.Contracts;
using Billing.Fleet.Leases;
using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;
using Weasel.Core;

namespace Billing.Benchmarks;

/// <summary>
/// The silo's memory with many active lease grains: lease documents of one GPU each are stored in bulk on
/// registered nodes, every lease grain is activated (it loads its document and replays the node's log from
/// its checkpoint, as after a restart) and meters one 10 s interval, so each holds an open minute window.
/// Working set and GC heap are read after a full collection, before and after, and per grain.
/// </summary>
public static class LeaseGrainMemoryBenchmark
{
    public static readonly string[] OptionNames = ["leases", "gpus", "concurrency"];

    private const string Sku = "H100-SXM-80GB";
    private const long Goal = 2L * 1024 * 1024 * 1024;

    public static async Task<bool> RunAsync(Options options, CancellationToken stop)
    {
        var (leaseCount, gpus, concurrency) = (options.Get("leases", 100_000), options.Get("gpus", 8), options.Get("concurrency", 64));
        var nodeCount = (leaseCount + gpus - 1) / gpus;
        Console.WriteLine($"settings:            {leaseCount} leases of 1 GPU on {nodeCount} nodes of {gpus}, {concurrency} calls in flight");
        Console.WriteLine($"load average:        {MachineCounters.LoadAverage()} (at start)");
        var start = MeteringRules.ToMillisecond(DateTimeOffset.UtcNow);
        await using var host = await BenchHost.StartAsync(start);
        host.RemoveRecurringJobs();
        var nodeIds = await host.AddNodesAsync(Sku, nodeCount, gpus, concurrency, stop);
        var empty = Memory.Read();
        Console.WriteLine($"nodes:               {nodeCount} registered and heard from; {empty}");

        var leases = Enumerable.Range(0, leaseCount).Select(i => Record(Guid.NewGuid(), nodeIds[i / gpus], i % gpus, start)).ToList();
        await host.Store.BulkInsertAsync(leases, BulkInsertMode.InsertsOnly, 10_000, stop);
        var all = NodeHealth.AllGpus(gpus);
        var (from, to) = (new HeartbeatSample(start, all), new HeartbeatSample(start.AddSeconds(10), all));
        var before = MachineCounters.Read();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(leases, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = stop }, async (lease, _) =>
        {
            var grain = host.Grains.GetGrain<ILeaseGrain>(lease.Id);
            await grain.Accrue(lease.NodeId, from, to);
        });
        var activated = clock.Elapsed;
        var counters = MachineCounters.Read().Since(before, leaseCount, "activation");
        var open = await host.Grains.GetGrain<ILeaseGrain>(leases[^1].Id).Get();
        var full = Memory.Read();
        Console.WriteLine($"activated:           {leaseCount} lease grains in {activated.TotalSeconds:0.0} s ({leaseCount / activated.TotalSeconds:0}/s), " +
            $"the last one metering {open?.GpuSeconds ?? 0} GPU-seconds in its open window; {counters}");
        Console.WriteLine($"memory:              {full}");
        var perGrain = (full.WorkingSet - empty.WorkingSet) / (double)leaseCount;
        var perGrainHeap = (full.Heap - empty.Heap) / (double)leaseCount;
        Console.WriteLine($"per lease grain:     {perGrain / 1024:0.0} KiB of working set, {perGrainHeap / 1024:0.0} KiB of GC heap; " +
            $"working set {full.WorkingSet / (double)Goal:P0} of the 2 GiB goal (100,000 leases at this rate: {(empty.WorkingSet + (perGrain * 100_000)) / 1024 / 1024 / 1024:0.00} GiB)");
        Console.WriteLine($"load average:        {MachineCounters.LoadAverage()} (at the end)");
        host.Log.Print();
        return full.WorkingSet < Goal && open?.GpuSeconds == 10;
    }

    private static LeaseRecord Record(Guid id, string nodeId, int gpu, DateTimeOffset start) =>
        new LeaseRecord(id, "bench-memory", nodeId, Sku, PricingModel.OnDemand, [gpu], start, LeaseState.Running, null, start, 0, false)
            .WithParts([new LeasePart(nodeId, null, [gpu], start, LeaseNodeState.Running, start, Checkpoint: start)]);

    /// <summary>The process's working set and GC heap after a full, compacting collection.</summary>
    private sealed record Memory(long WorkingSet, long Heap)
    {
        public static Memory Read()
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            using var process = Process.GetCurrentProcess();
            return new Memory(process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false));
        }

        public override string ToString() => $"working set {WorkingSet / 1024.0 / 1024:0} MiB, GC heap {Heap / 1024.0 / 1024:0} MiB";
    }
}
