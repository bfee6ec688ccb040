using System.Collections.Concurrent;
using System.Diagnostics;
using Billing.Contracts;
using Billing.Fleet.Leases;
using Billing.Fleet.Nodes;
using Billing.Fleet.Placement;

namespace Billing.Benchmarks;

/// <summary>
/// Gang placement on one silo, as <c>POST /v1/leases</c> does it (SkuPoolGrain.Place, then
/// LeaseGrain.Start): a large lease of whole nodes placed, started and ended again, round after
/// round; then many mixed requests at once, each placed and started, and a check that no GPU was given twice;
/// then the whole fleet heartbeating at a 15 s cadence (<see cref="FleetHeartbeatLoad"/>).
/// </summary>
public static class GangPlacementBenchmark
{
    public static readonly string[] OptionNames = ["fabrics", "nodes-per-fabric", "racks", "gpus", "gang-gpus", "rounds", "mixed", "heartbeat-periods"];

    private const string Sku = "H100-SXM-80GB";
    private const string Tenant = "bench-tenant";
    private static readonly int[] MixedSizes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

    public static async Task<bool> RunAsync(Options options, CancellationToken stop)
    {
        var (fabrics, perFabric, racks, gpus) = (options.Get("fabrics", 8), options.Get("nodes-per-fabric", 512), options.Get("racks", 16), options.Get("gpus", 8));
        var (gang, rounds, mixed) = (options.Get("gang-gpus", 2048), options.Get("rounds", 20), options.Get("mixed", 200));
        var nodes = fabrics * perFabric;
        Console.WriteLine($"settings:            {nodes} nodes x {gpus} GPUs ({nodes * gpus} GPUs) in {fabrics} fabrics of {perFabric} nodes, {racks} racks each; " +
            $"{rounds} rounds of a {gang}-GPU lease; {mixed} concurrent mixed requests");
        await using var host = await BenchHost.StartAsync(DateTimeOffset.UtcNow);
        var setup = Stopwatch.GetTimestamp();
        var perRack = Math.Max(1, perFabric / racks);
        var nodeIds = await host.AddNodesAsync(Sku, nodes, gpus, 64, stop, i => ($"fabric-{i / perFabric}", $"fabric-{i / perFabric}-rack-{i % perFabric / perRack}"));
        Console.WriteLine($"setup:               {nodes} nodes registered, added to the pool and heartbeating in {Stopwatch.GetElapsedTime(setup).TotalSeconds:0.00} s");
        var pool = host.Grains.GetGrain<ISkuPoolGrain>(Sku);

        var latencies = new List<long>();
        for (var round = 0; round < rounds; round++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var lease = await PlaceAndStartAsync(host, pool, gang);
            latencies.Add(Stopwatch.GetTimestamp() - t0);
            if (lease is null)
            {
                Console.WriteLine($"round {round}: the {gang}-GPU lease was refused -> FAIL");
                return false;
            }

            await host.Grains.GetGrain<ILeaseGrain>(lease.LeaseId).End();
        }

        Console.WriteLine($"{gang}-GPU lease place+start: {Latency.Summary(latencies)}");

        var random = new Random(42);
        var sizes = Enumerable.Range(0, mixed).Select(_ => MixedSizes[random.Next(MixedSizes.Length)]).ToList();
        var placed = new ConcurrentBag<LeaseView>();
        var began = Stopwatch.GetTimestamp();
        await Task.WhenAll(sizes.Select(async size =>
        {
            if (await PlaceAndStartAsync(host, pool, size) is { } lease)
            {
                placed.Add(lease);
            }
        }));
        var elapsed = Stopwatch.GetElapsedTime(began);
        Console.WriteLine($"mixed:               {placed.Count} of {mixed} placed ({placed.Sum(l => l.GpuCount)} of {sizes.Sum()} GPUs asked) in {elapsed.TotalSeconds:0.00} s: " +
            $"{placed.Count / elapsed.TotalSeconds:0.0} leases/s");

        var given = placed.SelectMany(l => l.Nodes!.SelectMany(n => n.GpuIndices.Select(g => (n.NodeId, g)))).ToList();
        var twice = given.Count - given.Distinct().Count();
        var leasedOnNodes = (await Task.WhenAll(nodeIds.Select(id => host.Grains.GetGrain<INodeGrain>(id).Get()))).Sum(v => v?.GpusLeased ?? 0);
        var ok = twice == 0 && leasedOnNodes == given.Count;
        Console.WriteLine($"GPUs given twice:    {twice}; leased per the nodes: {leasedOnNodes} of {given.Count} given -> {(ok ? "OK" : "FAIL")}");

        // The leases placed above stay running, so the heartbeats below meter them as well.
        ok &= await FleetHeartbeatLoad.RunAsync(host, nodeIds, gpus, TimeSpan.FromSeconds(15), options.Get("heartbeat-periods", 4), stop);
        host.Log.Print();
        return ok;
    }

    private static async Task<LeaseView?> PlaceAndStartAsync(BenchHost host, ISkuPoolGrain pool, int gpus)
    {
        var leaseId = Guid.CreateVersion7();
        var placement = await pool.Place(leaseId, gpus, PricingModel.OnDemand);
        return placement.Allocation is { } first
            ? await host.Grains.GetGrain<ILeaseGrain>(leaseId).Start(new LeaseSpec(
                Tenant, first.NodeId, Sku, PricingModel.OnDemand, first.GpuIndices, first.StartsAt, placement.Allocations, placement.Fabric))
            : null;
    }
}
