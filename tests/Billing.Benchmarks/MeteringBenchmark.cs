using System.Collections.Concurrent;
using System.Diagnostics;
using Billing.Contracts;
using Billing.Fleet.Leases;
using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;
using Billing.Fleet.Placement;
using Billing.Ledger.Usage;
using Marten;

namespace Billing.Benchmarks;

/// <summary>
/// Usage end to end: heartbeats through the node grains, usage windows out of the lease grains
/// through the outbox and RabbitMQ into the ledger's Marten store. One lease per node covers all its
/// GPUs; every heartbeat is 30 s after the last and reports every GPU healthy, so the expected usage
/// is exact: gpus x 30 s per interval, one record per lease per minute window.
/// </summary>
public static class MeteringBenchmark
{
    public static readonly string[] OptionNames = ["nodes", "gpus", "minutes", "concurrency"];

    private const string Sku = "H100-SXM-80GB";
    private const string Tenant = "bench-tenant";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(10);

    public static async Task<bool> RunAsync(Options options, CancellationToken stop)
    {
        var (nodes, gpus, minutes, concurrency) = (options.Get("nodes", 200), options.Get("gpus", 8), options.Get("minutes", 60), options.Get("concurrency", 64));
        if (gpus > NodeEndpoints.MaxGpus)
        {
            Console.Error.WriteLine($"--gpus is at most {NodeEndpoints.MaxGpus}");
            return false;
        }

        var rounds = minutes * (int)(TimeSpan.FromMinutes(1) / Interval);
        Console.WriteLine($"settings:            {nodes} nodes x {gpus} GPUs, one {gpus}-GPU lease per node, {minutes} simulated minutes " +
            $"({rounds} heartbeats per node, every {Interval.TotalSeconds:0} s), concurrency {concurrency}");

        // A day's late-arrival window is open from here, and simulated time never reaches real time.
        var start = MeteringRules.WindowStartOf(DateTimeOffset.UtcNow - TimeSpan.FromHours(23));
        await using var host = await BenchHost.StartAsync(start);
        Console.WriteLine($"host:                in-process, schema {host.Schema}, billing clock from {start:O}");

        var nodeIds = await host.AddNodesAsync(Sku, nodes, gpus, concurrency, stop);
        var leaseIds = await StartLeasesAsync(host, nodes, gpus, concurrency, stop);
        var end = start + rounds * Interval;
        var expectedRecords = (long)nodes * Windows(start, end);
        var expectedGpuSeconds = (decimal)nodes * gpus * (decimal)(end - start).TotalSeconds;
        Console.WriteLine($"expected:            {expectedRecords} usage records, {expectedGpuSeconds} GPU-seconds");

        // (a) heartbeats through the grains.
        var began = Stopwatch.GetTimestamp();
        var drive = new Drive(host, nodeIds, gpus, start, rounds, concurrency);
        await drive.RunAsync(stop);
        var driven = Stopwatch.GetElapsedTime(began);
        Console.WriteLine($"heartbeats:          {drive.Accepted} accepted, {drive.Refused} refused, in {driven.TotalSeconds:0.00} s");
        Console.WriteLine($"heartbeat rate:      {drive.Accepted / driven.TotalSeconds:0.0} heartbeats/s through the node grains");
        Console.WriteLine($"heartbeat latency:   {Latency.Summary(drive.Latencies)}");
        Console.WriteLine($"ledger behind:       {expectedRecords - await CountStoredAsync(host, stop)} usage records not yet stored when the last heartbeat was acknowledged");

        // End every lease at the last heartbeat, then one more heartbeat settles it.
        host.Clock.SetUtcNow(end);
        var endedAt = await Task.WhenAll(leaseIds.Select(async id => (await host.Grains.GetGrain<ILeaseGrain>(id).End())?.EndedAt));
        if (endedAt.Count(e => e != end) is > 0 and var off)
        {
            Console.WriteLine($"warning:             {off} leases did not end at {end:O}");
        }

        var refusedBefore = drive.Refused;
        await drive.PostAsync(rounds + 1, stop);
        if (drive.Refused > refusedBefore)
        {
            Console.WriteLine($"warning:             {drive.Refused - refusedBefore} settling heartbeats refused");
        }

        var settled = Stopwatch.GetElapsedTime(began);

        // (b) until the ledger has stored every window.
        var (stored, gpuSeconds, storedAfter) = await WaitForLedgerAsync(host, expectedRecords, began, stop);
        var ok = stored == expectedRecords && gpuSeconds == expectedGpuSeconds;
        Console.WriteLine($"stored:              {stored} of {expectedRecords} usage records, {gpuSeconds} of {expectedGpuSeconds} GPU-seconds -> {(ok ? "OK" : "MISMATCH")}");
        if (stored == expectedRecords)
        {
            Console.WriteLine($"all stored after:    {storedAfter.TotalSeconds:0.00} s from the first heartbeat " +
                $"({(storedAfter - settled).TotalSeconds:0.00} s after the last one)");
            Console.WriteLine($"usage record rate:   {stored / storedAfter.TotalSeconds:0.0} usage records/s stored (first heartbeat to last stored)");
        }

        if (ok)
        {
            await WaitForHourlyProjectionAsync(host, expectedGpuSeconds, began, stop);
        }

        host.Log.Print();
        return ok;
    }

    /// <summary>
    /// Not one of the figures asked for, but what invoicing reads: how long after the last window was
    /// stored the async hourly projection holds the same GPU-seconds (printed only; waits a minute at most).
    /// </summary>
    private static async Task WaitForHourlyProjectionAsync(BenchHost host, decimal expected, long began, CancellationToken stop)
    {
        var waiting = Stopwatch.StartNew();
        decimal projected;
        do
        {
            await using var session = host.Store.QuerySession();
            projected = await session.Query<UsageHour>().SumAsync(h => h.GpuSeconds, stop);
            if (projected != expected)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), stop);
            }
        }
        while (projected != expected && waiting.Elapsed < TimeSpan.FromMinutes(1));

        Console.WriteLine(projected == expected
            ? $"hourly projection:   caught up {Stopwatch.GetElapsedTime(began).TotalSeconds:0.00} s from the first heartbeat ({waiting.Elapsed.TotalSeconds:0.00} s after the last window was stored)"
            : $"hourly projection:   holds {projected} of {expected} GPU-seconds a minute after the last window was stored (not caught up)");
    }

    /// <summary>Minute windows the span [from, to) touches.</summary>
    private static long Windows(DateTimeOffset from, DateTimeOffset to) =>
        (MeteringRules.WindowStartOf(to - TimeSpan.FromTicks(1)) - MeteringRules.WindowStartOf(from)).Ticks / MeteringRules.Window.Ticks + 1;

    /// <summary>One lease per node, all its GPUs: placed by the pool, started on its grain.</summary>
    private static async Task<IReadOnlyList<Guid>> StartLeasesAsync(BenchHost host, int nodes, int gpus, int concurrency, CancellationToken stop)
    {
        var leaseIds = new ConcurrentBag<Guid>();
        var pool = host.Grains.GetGrain<ISkuPoolGrain>(Sku);
        await Parallel.ForEachAsync(Enumerable.Range(0, nodes), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = stop }, async (_, _) =>
        {
            var leaseId = Guid.CreateVersion7();
            var allocation = (await pool.Place(leaseId, gpus, PricingModel.OnDemand)).Allocation
                ?? throw new InvalidOperationException("A lease found no node; every node should take one.");
            await host.Grains.GetGrain<ILeaseGrain>(leaseId)
                .Start(new LeaseSpec(Tenant, allocation.NodeId, Sku, PricingModel.OnDemand, allocation.GpuIndices, allocation.StartsAt));
            leaseIds.Add(leaseId);
        });
        return [.. leaseIds];
    }

    private static async Task<long> CountStoredAsync(BenchHost host, CancellationToken stop)
    {
        await using var session = host.Store.QuerySession();
        return await session.Query<MeteredWindow>().LongCountAsync(stop);
    }

    /// <summary>Polls the ledger's windows until all are there, printing progress; gives up after <see cref="StoreTimeout"/>.</summary>
    private static async Task<(long Stored, decimal GpuSeconds, TimeSpan At)> WaitForLedgerAsync(
        BenchHost host, long expected, long began, CancellationToken stop)
    {
        var waiting = Stopwatch.StartNew();
        var progress = TimeSpan.Zero;
        while (true)
        {
            var stored = await CountStoredAsync(host, stop);
            var at = Stopwatch.GetElapsedTime(began);
            var timedOut = waiting.Elapsed > StoreTimeout;
            if (stored >= expected || timedOut)
            {
                if (timedOut)
                {
                    Console.WriteLine($"TIMEOUT:             after waiting {StoreTimeout.TotalMinutes:0} minutes only {stored} of {expected} usage records are stored");
                }

                await using var session = host.Store.QuerySession();
                return (stored, await session.Query<MeteredWindow>().SumAsync(w => w.GpuSeconds, stop), at);
            }

            if (waiting.Elapsed - progress >= ProgressEvery)
            {
                progress = waiting.Elapsed;
                Console.WriteLine($"  waiting:           {stored} of {expected} usage records stored after {at.TotalSeconds:0.0} s");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), stop);
        }
    }

    /// <summary>
    /// Every node posts its heartbeats in order; nodes run concurrently (at most <c>concurrency</c>
    /// calls in flight). The billing clock follows the slowest node, and no node runs more than
    /// <see cref="Lead"/> intervals ahead of it: heartbeats are then at most 90 s ahead of the clock
    /// (the limit is 2 minutes), and no node ever looks unreachable to the clock (45 s), so neither
    /// a heartbeat nor the maintenance job interrupts a lease.
    /// </summary>
    private sealed class Drive(BenchHost host, IReadOnlyList<string> nodeIds, int gpus, DateTimeOffset start, int rounds, int concurrency)
    {
        private const int Lead = 3;

        private readonly SemaphoreSlim inFlight = new(concurrency);
        private readonly int[] remaining = [.. Enumerable.Repeat(nodeIds.Count, rounds + 1)];
        private readonly TaskCompletionSource[] roundDone = [.. Enumerable.Range(0, rounds + 1).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
        private readonly ConcurrentQueue<long> latencies = new();
        private readonly Lock clock = new();
        private readonly ulong all = NodeHealth.AllGpus(gpus);
        private long accepted;
        private long refused;

        public long Accepted => Interlocked.Read(ref accepted);

        public long Refused => Interlocked.Read(ref refused);

        public IEnumerable<long> Latencies => latencies;

        public async Task RunAsync(CancellationToken stop)
        {
            using var report = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var progress = ReportAsync(report.Token);
            await Task.WhenAll(nodeIds.Select(async nodeId =>
            {
                for (var round = 1; round <= rounds; round++)
                {
                    if (round > Lead)
                    {
                        await roundDone[round - Lead].Task.WaitAsync(stop);
                    }

                    await PostAsync(nodeId, round, stop);
                    if (Interlocked.Decrement(ref remaining[round]) == 0)
                    {
                        AdvanceClock(start + round * Interval);
                        roundDone[round].TrySetResult();
                    }
                }
            }));
            await report.CancelAsync();
            await progress;
        }

        /// <summary>One more heartbeat per node, all at once (bounded by the same concurrency).</summary>
        public Task PostAsync(int round, CancellationToken stop) =>
            Task.WhenAll(nodeIds.Select(nodeId => PostAsync(nodeId, round, stop)));

        private async Task PostAsync(string nodeId, int round, CancellationToken stop)
        {
            await inFlight.WaitAsync(stop);
            try
            {
                var began = Stopwatch.GetTimestamp();
                var admission = await host.Grains.GetGrain<INodeGrain>(nodeId).RecordHeartbeat(new HeartbeatSample(start + round * Interval, all), all);
                latencies.Enqueue(Stopwatch.GetTimestamp() - began);
                Interlocked.Increment(ref admission == HeartbeatAdmission.Accepted ? ref accepted : ref refused);
            }
            finally
            {
                inFlight.Release();
            }
        }

        private void AdvanceClock(DateTimeOffset to)
        {
            lock (clock)
            {
                if (to > host.Clock.GetUtcNow())
                {
                    host.Clock.SetUtcNow(to);
                }
            }
        }

        private async Task ReportAsync(CancellationToken stop)
        {
            using var timer = new PeriodicTimer(ProgressEvery);
            var began = Stopwatch.GetTimestamp();
            try
            {
                while (await timer.WaitForNextTickAsync(stop))
                {
                    Console.WriteLine($"  driving:           {Accepted} heartbeats after {Stopwatch.GetElapsedTime(began).TotalSeconds:0.0} s, " +
                        $"billing clock at +{(host.Clock.GetUtcNow() - start).TotalMinutes:0.0} of {rounds * Interval.TotalMinutes:0} min");
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
