using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Billing.NodeAgent.Agent;
using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;
using Billing.NodeAgent.Fleet;
using Billing.NodeAgent.Leasing;
using Billing.NodeAgent.Metering;

namespace Billing.NodeAgent.Load;

/// <summary>
/// <c>load</c>: how many heartbeats per second the API accepts, and how fast metered usage reaches
/// the ledger. Two phases. History: heartbeats back-dated from now − history, 15 s apart, with no
/// leases (the API only places leases on nodes heard from in the last 45 s and meters a lease only
/// from its start, so back-dated heartbeats can carry no usage). Metering: every GPU leased,
/// heartbeats stamped with the real clock, as fast as the API takes them.
/// </summary>
public static class LoadCommand
{
    private sealed record Settings(
        Uri Api, string OpsKey, int Nodes, int Gpus, TimeSpan Duration, int Concurrency, int LeasesPerNode, TimeSpan History, string Sku);

    private static readonly TimeSpan HistoryStep = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan LedgerTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan NudgeEvery = TimeSpan.FromSeconds(5);

    public static Command Create()
    {
        var api = CliOptions.Api();
        var opsKey = CliOptions.OpsKey(required: true);
        var nodes = CliOptions.Count("--nodes", 2000, "Nodes to register", max: 1_000_000);
        var gpus = CliOptions.Count("--gpus", 8, "GPUs per node", max: 64);
        var duration = CliOptions.Duration("--duration", TimeSpan.FromSeconds(30), "How long each phase posts heartbeats");
        var concurrency = CliOptions.Count("--concurrency", 256, "Requests in flight at most (never more than one per node)", max: 10_000);
        var leasesPerNode = CliOptions.Count("--leases-per-node", 1, "Leases per node, splitting its GPUs between them", max: 64);
        var history = CliOptions.Duration("--history", TimeSpan.FromHours(23),
            "How far back the history phase's heartbeats start (under the API's 24 h late-arrival window); 0 skips that phase");
        var sku = new Option<string>("--sku")
        {
            Description = "A SKU of the price book; the run's fresh nodes take the pool's leases (older load nodes are unreachable)",
            DefaultValueFactory = _ => "A100-SXM-80GB",
        };
        var command = new Command("load", "Load-test heartbeat ingestion and metering with a freshly registered fleet")
        {
            api, opsKey, nodes, gpus, duration, concurrency, leasesPerNode, history, sku,
        };
        command.SetGuardedAction((parse, ct) => RunAsync(
            new Settings(parse.GetValue(api)!, parse.GetValue(opsKey)!, parse.GetValue(nodes), parse.GetValue(gpus), parse.GetValue(duration),
                parse.GetValue(concurrency), Math.Min(parse.GetValue(leasesPerNode), parse.GetValue(gpus)), parse.GetValue(history), parse.GetValue(sku)!),
            ct));
        return command;
    }

    private static async Task<int> RunAsync(Settings settings, CancellationToken ct)
    {
        // Lease requests and polls share the pool with the pump's posts.
        var client = ApiClient.Create(settings.Api, settings.Concurrency + 32, TimeSpan.FromSeconds(30));
        if (!await client.IsUpAsync(ct))
        {
            Log.Error($"The API at {settings.Api} does not answer GET /health.");
            return 1;
        }

        var runId = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var sku = settings.Sku;
        Console.WriteLine($"Load run {runId} on {sku}: {settings.Nodes} nodes × {settings.Gpus} GPUs, concurrency {settings.Concurrency}, " +
            $"{settings.LeasesPerNode} lease(s) per node, {Durations.Format(settings.Duration)} per phase.");

        var clock = Stopwatch.StartNew();
        var fleet = await FleetRegistrar.RegisterAsync(client, settings.OpsKey, FleetRegistrar.NodeIds($"load-{runId}", settings.Nodes),
            sku, settings.Gpus, "load-1", settings.Concurrency, ct);
        Console.WriteLine($"Registered {fleet.Count} nodes in {clock.Elapsed.TotalSeconds:0.0} s ({fleet.Count / clock.Elapsed.TotalSeconds:0.0} nodes/s).");
        var tenant = await client.CreateTenantAsync(settings.OpsKey, $"load-{runId}", ct);
        var nodes = fleet.Select(n => new LoadNode(n)).ToList();

        if (settings.History > TimeSpan.Zero)
        {
            await HistoryPhaseAsync(client, nodes, settings, ct);
        }

        return await MeteringPhaseAsync(client, nodes, tenant, sku, settings, ct);
    }

    private static async Task HistoryPhaseAsync(ApiClient client, IReadOnlyList<LoadNode> nodes, Settings settings, CancellationToken ct)
    {
        var stats = StartPhase(client, nodes, keepAcknowledged: false);
        var first = Clock.Now - settings.History;
        Console.WriteLine($"History phase: observedAt from {ApiJson.Format(first)}, +{Durations.Format(HistoryStep)} per heartbeat, never beyond now, no leases.");
        var (accepted, elapsed) = await PumpAsync(nodes, settings, stats, "history", Next, whileRunning: null, ct);
        Console.WriteLine($"History phase: {accepted} heartbeats accepted in {elapsed.TotalSeconds:0.0} s = {accepted / elapsed.TotalSeconds:0.0} heartbeats/s " +
            $"({stats}).");

        DateTimeOffset? Next(LoadNode node)
        {
            var at = node.Last == DateTimeOffset.MinValue ? first : node.Last + HistoryStep;
            return at <= Clock.Now ? at : null;
        }
    }

    private static async Task<int> MeteringPhaseAsync(
        ApiClient client, IReadOnlyList<LoadNode> nodes, TenantCreated tenant, string sku, Settings settings, CancellationToken ct)
    {
        var stats = StartPhase(client, nodes, keepAcknowledged: true);
        Console.WriteLine("Metering phase: observedAt from the real clock, every GPU leased.");

        // A node takes leases only once a recent heartbeat says its GPUs are healthy.
        await ForEachAsync(nodes, settings.Concurrency, (node, token) => node.PostAsync(RealTime(node), token), ct);
        var leases = new List<TenantLease>();
        var (accepted, elapsed) = await PumpAsync(nodes, settings, stats, "metering", node => RealTime(node),
            whileRunning: async token =>
            {
                var placed = await RequestLeasesAsync(client, tenant, sku, nodes.Count, settings, token);
                leases.AddRange(placed);
            },
            ct);
        Console.WriteLine($"Metering phase: {accepted} heartbeats accepted in {elapsed.TotalSeconds:0.0} s = {accepted / elapsed.TotalSeconds:0.0} heartbeats/s " +
            $"({stats}).");

        var settling = Stopwatch.StartNew();
        var ended = await LeaseRequests.EndAllAsync(client, leases, settings.Concurrency, ct);
        var byNode = nodes.ToDictionary(n => n.Node.NodeId);
        // The heartbeat after its end lets each lease settle; more follow while any is still open.
        await ForEachAsync(nodes, settings.Concurrency, (node, token) => node.PostAsync(RealTime(node), token), ct);
        var lastNudge = Stopwatch.StartNew();
        var settled = await LeaseRequests.WaitSettledAsync(client, ended, SettleTimeout, settings.Concurrency,
            async (open, token) =>
            {
                if (lastNudge.Elapsed >= NudgeEvery)
                {
                    var owing = open.Select(l => byNode[l.Lease.NodeId]).Distinct().ToList();
                    await ForEachAsync(owing, settings.Concurrency, (node, t) => node.PostAsync(RealTime(node), t), token);
                    lastNudge.Restart();
                }
            },
            ct);
        var settledAfter = settling.Elapsed;
        var sinceFirstLease = DateTimeOffset.UtcNow - settled.Min(l => l.Lease.StartedAt);

        var windows = settled.Select(l => ExpectedUsage.Windows(byNode[l.Lease.NodeId].Sender!.Acknowledged, l.Lease.GpuIndices,
            l.Lease.StartedAt, l.Lease.EndedAt)).ToList();
        var records = windows.Sum(w => w.Count);
        var expected = windows.Sum(w => w.Values.Sum()) / 1000m;
        var metered = settled.Sum(l => l.Lease.GpuSeconds);
        Console.WriteLine($"Settlement: all {settled.Count} leases settled {settledAfter.TotalSeconds:0.0} s after ending them.");
        Console.WriteLine($"  expected usage records: {records} (one per lease per closed minute window with usage)");
        Console.WriteLine($"  usage records/s produced: {records / sinceFirstLease.TotalSeconds:0.0} (over {sinceFirstLease.TotalSeconds:0.0} s from the first lease start to the last settlement)");
        Console.WriteLine($"  GPU-seconds: expected from acknowledged heartbeats {expected:0.000}, leases' API sum {metered:0.000}: {(expected == metered ? "MATCH" : "MISMATCH")}");

        var ledger = await UsageLedger.WaitForTotalAsync(client, tenant.ApiKey, settled.Min(l => l.Lease.StartedAt), metered, LedgerTimeout, ct);
        var sinceFirstLeaseStored = sinceFirstLease + ledger.Waited;
        if (ledger.Matched)
        {
            Console.WriteLine($"Ledger: usage API total {ledger.Report.TotalGpuSeconds:0.000} matched {ledger.Waited.TotalSeconds:0.0} s after the last settlement.");
            Console.WriteLine($"  usage records/s stored: {records / sinceFirstLeaseStored.TotalSeconds:0.0} (over {sinceFirstLeaseStored.TotalSeconds:0.0} s from the first lease start)");
        }
        else
        {
            Console.WriteLine($"Ledger: usage API total {ledger.Report.TotalGpuSeconds:0.000} still not {metered:0.000} after {LedgerTimeout.TotalSeconds:0} s: MISMATCH.");
        }

        return ledger.Matched && expected == metered ? 0 : 1;
    }

    private static SenderStats StartPhase(ApiClient client, IReadOnlyList<LoadNode> nodes, bool keepAcknowledged)
    {
        var stats = new SenderStats();
        foreach (var node in nodes)
        {
            // Thousands of nodes would each log an outage; the meter's retry count says it once.
            node.Sender = new NodeSender(client, node.Node.NodeId, node.Node.AgentKey, stats, keepAcknowledged, logRetries: false);
        }

        return stats;
    }

    /// <summary>
    /// Pumps heartbeats, first while <paramref name="whileRunning"/> works (not measured), then for the
    /// phase's duration (measured); returns the heartbeats accepted in the measured time.
    /// </summary>
    private static async Task<(long Accepted, TimeSpan Elapsed)> PumpAsync(
        IReadOnlyList<LoadNode> nodes, Settings settings, SenderStats stats, string label, Func<LoadNode, DateTimeOffset?> next,
        Func<CancellationToken, Task>? whileRunning, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pump = new HeartbeatPump(nodes, settings.Concurrency).RunAsync(next, stop.Token, ct);
        var meter = Task.CompletedTask;
        var (before, clock) = (0L, new Stopwatch());
        try
        {
            if (whileRunning is not null)
            {
                await whileRunning(ct);
            }

            meter = ThroughputMeter.ReportAsync(label, stats, stop.Token);
            (before, clock) = (stats.Accepted, Stopwatch.StartNew());
            await Task.WhenAny(pump, Task.Delay(settings.Duration, ct));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(pump, meter);
        }

        return (stats.Accepted - before, clock.Elapsed);
    }

    private static async Task<IReadOnlyList<TenantLease>> RequestLeasesAsync(
        ApiClient client, TenantCreated tenant, string sku, int nodeCount, Settings settings, CancellationToken ct)
    {
        var size = settings.Gpus / settings.LeasesPerNode;
        var count = nodeCount * settings.LeasesPerNode;
        var leases = new TenantLease[count];
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = settings.Concurrency, CancellationToken = ct },
            async (i, token) => leases[i] = new TenantLease(tenant.ApiKey,
                await LeaseRequests.RequestAsync(client, tenant.ApiKey, new RequestLease(sku, size, PricingModel.OnDemand), TimeSpan.FromSeconds(30), token)));
        Console.WriteLine($"Placed {count} leases of {size} GPUs in {clock.Elapsed.TotalSeconds:0.0} s ({count / clock.Elapsed.TotalSeconds:0.0} leases/s).");
        return leases;
    }

    /// <summary>Now, or a millisecond after the node's last heartbeat if the clock has not moved on since.</summary>
    private static DateTimeOffset RealTime(LoadNode node)
    {
        var now = Clock.Now;
        return now > node.Last ? now : node.Last.AddMilliseconds(1);
    }

    private static Task ForEachAsync(IEnumerable<LoadNode> nodes, int concurrency, Func<LoadNode, CancellationToken, Task> post, CancellationToken ct) =>
        Parallel.ForEachAsync(nodes, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct },
            async (node, token) => await post(node, token));
}
