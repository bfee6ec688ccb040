using System.Collections.Concurrent;
using System.Diagnostics;
using Billing.Contracts;
using Billing.Fleet.Leases;
using Billing.Fleet.Nodes;
using Billing.Fleet.Placement;

namespace Billing.Benchmarks;

/// <summary>
/// Leases placed per second on one silo: 1-GPU leases placed by the SKU pool grain and started on
/// their lease grains (what <c>POST /v1/leases</c> does), with bounded concurrency; then checks that
/// no GPU was given twice.
/// </summary>
public static class PlacementBenchmark
{
    public static readonly string[] OptionNames = ["nodes", "gpus", "leases", "concurrency"];

    private const string Sku = "H100-SXM-80GB";
    private const string Tenant = "bench-tenant";

    public static async Task<bool> RunAsync(Options options, CancellationToken stop)
    {
        var (nodes, gpus, leases, concurrency) = (options.Get("nodes", 500), options.Get("gpus", 8), options.Get("leases", 4000), options.Get("concurrency", 64));
        if (gpus > NodeEndpoints.MaxGpus)
        {
            Console.Error.WriteLine($"--gpus is at most {NodeEndpoints.MaxGpus}");
            return false;
        }

        Console.WriteLine($"settings:            {nodes} nodes x {gpus} GPUs ({nodes * gpus} GPUs, SKU {Sku}), {leases} leases of 1 GPU on demand, concurrency {concurrency}");
        await using var host = await BenchHost.StartAsync(DateTimeOffset.UtcNow);
        Console.WriteLine($"host:                in-process, schema {host.Schema}");

        var setup = Stopwatch.GetTimestamp();
        var nodeIds = await host.AddNodesAsync(Sku, nodes, gpus, concurrency, stop);
        Console.WriteLine($"setup:               {nodes} nodes registered, added to the pool and heartbeating in {Stopwatch.GetElapsedTime(setup).TotalSeconds:0.00} s");

        var pool = host.Grains.GetGrain<ISkuPoolGrain>(Sku);
        var placed = new ConcurrentBag<(Allocation Allocation, long Place, long Start)>();
        var refused = new ConcurrentBag<long>();
        var began = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, leases), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = stop }, async (_, _) =>
        {
            var leaseId = Guid.CreateVersion7();
            var t0 = Stopwatch.GetTimestamp();
            var placement = await pool.Place(leaseId, 1, PricingModel.OnDemand);
            var t1 = Stopwatch.GetTimestamp();
            if (placement.Allocation is not { } allocation)
            {
                refused.Add(t1 - t0);
                return;
            }

            await host.Grains.GetGrain<ILeaseGrain>(leaseId)
                .Start(new LeaseSpec(Tenant, allocation.NodeId, Sku, PricingModel.OnDemand, allocation.GpuIndices, allocation.StartsAt));
            placed.Add((allocation, t1 - t0, Stopwatch.GetTimestamp() - t1));
        });
        var elapsed = Stopwatch.GetElapsedTime(began);

        Console.WriteLine($"placed:              {placed.Count} of {leases} ({refused.Count} refused for no capacity) in {elapsed.TotalSeconds:0.00} s");
        Console.WriteLine($"throughput:          {placed.Count / elapsed.TotalSeconds:0.0} leases/s placed and started");
        Console.WriteLine($"latency place+start: {Latency.Summary(placed.Select(p => p.Place + p.Start))}");
        Console.WriteLine($"  Place (pool grain):  {Latency.Summary(placed.Select(p => p.Place))}");
        Console.WriteLine($"  Start (lease grain): {Latency.Summary(placed.Select(p => p.Start))}");

        var ok = await VerifyAsync(host, nodeIds, gpus, Math.Min(leases, nodes * gpus), [.. placed.Select(p => p.Allocation)]);
        host.Log.Print();
        return ok;
    }

    /// <summary>No (node, GPU) in two allocations, every index on its node, and the nodes agree on how many GPUs are leased.</summary>
    private static async Task<bool> VerifyAsync(BenchHost host, IReadOnlyList<string> nodeIds, int gpus, int expected, IReadOnlyList<Allocation> allocations)
    {
        var given = allocations.SelectMany(a => a.GpuIndices.Select(gpu => (a.NodeId, Gpu: gpu))).ToList();
        var twice = given.Count - given.Distinct().Count();
        var known = nodeIds.ToHashSet();
        var outOfRange = given.Count(g => g.Gpu < 0 || g.Gpu >= gpus || !known.Contains(g.NodeId));
        var views = await Task.WhenAll(nodeIds.Select(id => host.Grains.GetGrain<INodeGrain>(id).Get()));
        var leasedOnNodes = views.Sum(v => v?.GpusLeased ?? 0);
        var ok = twice == 0 && outOfRange == 0 && leasedOnNodes == given.Count && given.Count == expected;
        Console.WriteLine($"GPUs given twice:    {twice}; indices off their node: {outOfRange}; leased per the nodes: {leasedOnNodes}; " +
            $"placed {given.Count} of {expected} expected -> {(ok ? "OK" : "FAIL")}");
        return ok;
    }
}
