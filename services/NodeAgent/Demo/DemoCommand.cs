using System.CommandLine;
using System.Globalization;
using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;
using Billing.NodeAgent.Fleet;
using Billing.NodeAgent.Leasing;
using Billing.NodeAgent.Metering;

namespace Billing.NodeAgent.Demo;

/// <summary>
/// <c>demo</c>: the end-to-end proof. A simulated fleet in fabrics and racks, tenants that lease and
/// release GPUs, one tenant's cluster lease of whole nodes one of which dies midway and is replaced,
/// and a check that the usage API and the invoices carry exactly the GPU-seconds that the agents'
/// own acknowledged heartbeats imply, node by node for the cluster.
/// </summary>
public static class DemoCommand
{
    private sealed record Settings(
        Uri Api, string OpsKey, int Nodes, int Gpus, int Tenants, int LeasesPerTenant, TimeSpan Duration, TimeSpan Interval, string Sku, string Region,
        FleetTopology Topology, int ClusterNodes);

    private const int Concurrency = 32;
    private static readonly TimeSpan LeasePatience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LedgerTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan InvoiceTimeout = TimeSpan.FromSeconds(30);

    // A lost node is declared so past the heartbeat timeout and the unreachable grace (45 s + 60 s by default).
    private static readonly TimeSpan ReplacementTimeout = TimeSpan.FromMinutes(5);

    public static Command Create()
    {
        var api = CliOptions.Api();
        var opsKey = CliOptions.OpsKey(required: true);
        var nodes = CliOptions.Count("--nodes", 20, "Simulated nodes", max: 10_000);
        var gpus = CliOptions.Count("--gpus", 8, "GPUs per node", max: 64);
        var tenants = CliOptions.Count("--tenants", 3, "Tenants to create", max: 1_000);
        var leases = CliOptions.Count("--leases-per-tenant", 3, "Leases each tenant requests (sizes 1/2/4/8, pricing OnDemand/Spot/Reserved in turn)", max: 100);
        var duration = CliOptions.Duration("--duration", TimeSpan.FromSeconds(90), "How long the leases run");
        var interval = CliOptions.Duration("--interval", TimeSpan.FromSeconds(15), "Time between a node's heartbeats");
        var sku = CliOptions.Sku();
        var region = new Option<string>("--region") { Description = "Region of the nodes", DefaultValueFactory = _ => "local-1" };
        var fabrics = CliOptions.Fabrics();
        var rackSize = CliOptions.RackSize();
        var clusterNodes = CliOptions.Count("--cluster-nodes", 4, "Whole nodes of the cluster lease (one dies midway and is replaced)", max: 1_000);
        var command = new Command("demo", "Run a simulated fleet with tenants' leases and a cluster lease that loses a node, then check usage and invoices against the heartbeats; exit 0 only if all match")
        {
            api, opsKey, nodes, gpus, tenants, leases, duration, interval, sku, region, fabrics, rackSize, clusterNodes,
        };
        command.SetGuardedAction((parse, ct) => RunAsync(
            new Settings(parse.GetValue(api)!, parse.GetValue(opsKey)!, parse.GetValue(nodes), parse.GetValue(gpus), parse.GetValue(tenants),
                parse.GetValue(leases), parse.GetValue(duration), parse.GetValue(interval), parse.GetValue(sku)!, parse.GetValue(region)!,
                new FleetTopology(parse.GetValue(fabrics), parse.GetValue(rackSize)), parse.GetValue(clusterNodes)),
            ct));
        return command;
    }

    private static async Task<int> RunAsync(Settings settings, CancellationToken ct)
    {
        var client = ApiClient.Create(settings.Api, 64, TimeSpan.FromSeconds(15));
        if (!await client.IsUpAsync(ct))
        {
            Log.Error($"The API at {settings.Api} does not answer GET /health.");
            return 1;
        }

        // Node ids carry the run id, so that reruns against the same platform do not collide.
        var runId = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var nodes = await FleetRegistrar.RegisterAsync(client, settings.OpsKey, FleetRegistrar.NodeIds($"demo-{runId}", settings.Nodes),
            settings.Sku, settings.Gpus, settings.Region, Concurrency, ct, settings.Topology);
        var tenants = new List<TenantCreated>();
        for (var k = 1; k <= settings.Tenants; k++)
        {
            tenants.Add(await client.CreateTenantAsync(settings.OpsKey, $"demo-{runId}-tenant-{k}", ct));
        }

        var clusterTenant = await client.CreateTenantAsync(settings.OpsKey, $"demo-{runId}-cluster", ct);
        Log.Info($"Run {runId}: registered {nodes.Count} {settings.Sku} nodes × {settings.Gpus} GPUs in {nodes.Select(n => n.Fabric).Distinct().Count()} fabric(s) " +
            $"and {tenants.Count} tenants, and a cluster tenant.");

        var fleet = new SimulatedFleet(client, nodes, new SimulationSettings(settings.Interval, 0, 0), keepAcknowledged: true);
        fleet.Start();
        IReadOnlyList<TenantLease> settled;
        try
        {
            await fleet.WhenAllReportedAsync(settings.Interval + TimeSpan.FromSeconds(30), ct);
            Log.Info("Every node has posted a heartbeat; requesting the cluster lease, then the other leases.");
            var cluster = await ClusterLease.StartAsync(client, clusterTenant, settings.Sku, settings.ClusterNodes * settings.Gpus, LeasePatience, ct);
            var leases = (await RequestLeasesAsync(client, tenants, settings, ct)).Append(cluster).ToList();

            Log.Info($"{leases.Count} leases running; letting them run for {Durations.Format(settings.Duration)}, losing a node of the cluster a third of the way.");
            var running = System.Diagnostics.Stopwatch.StartNew();
            await Task.Delay(settings.Duration / 3, ct);
            await ClusterLease.LoseANodeAsync(client, settings.OpsKey, fleet, cluster, ReplacementTimeout, ct);
            var rest = settings.Duration - running.Elapsed;
            await Task.Delay(rest > settings.Interval * 2 ? rest : settings.Interval * 2, ct);

            var ended = await LeaseRequests.EndAllAsync(client, leases, Concurrency, ct);
            Log.Info("Every lease ended; waiting for the next heartbeats to settle them.");
            var settleTimeout = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(2).Ticks, settings.Interval.Ticks * 4));
            settled = await LeaseRequests.WaitSettledAsync(client, ended, settleTimeout, Concurrency, null, ct);
            Log.Info("Every lease is settled; stopping the agents.");
        }
        finally
        {
            await fleet.StopAsync(TimeSpan.FromSeconds(5));
        }

        Console.WriteLine($"Agents: {fleet.Stats}.");
        var checks = await CheckAsync(client, settings.OpsKey, fleet, [.. tenants, clusterTenant], settled, ct);
        DemoReport.Print(checks, Console.Out);
        return checks.All(c => c.Matches) ? 0 : 1;
    }

    private static async Task<IReadOnlyList<TenantLease>> RequestLeasesAsync(
        ApiClient client, IReadOnlyList<TenantCreated> tenants, Settings settings, CancellationToken ct)
    {
        var leases = new List<TenantLease>();
        for (var t = 0; t < tenants.Count; t++)
        {
            foreach (var request in DemoPlan.ForTenant(t, settings.LeasesPerTenant, settings.Sku, settings.Gpus))
            {
                var lease = await LeaseRequests.RequestAsync(client, tenants[t].ApiKey, request, LeasePatience, ct);
                Log.Info($"{tenants[t].Name}: lease {lease.LeaseId} {lease.Pricing} {lease.GpuIndices.Count} GPU(s) on {lease.NodeId} " +
                    $"[{string.Join(',', lease.GpuIndices)}] from {ApiJson.Format(lease.StartedAt)}.");
                leases.Add(new TenantLease(tenants[t].ApiKey, lease));
            }
        }

        return leases;
    }

    private static async Task<IReadOnlyList<TenantCheck>> CheckAsync(
        ApiClient client, string opsKey, SimulatedFleet fleet, IReadOnlyList<TenantCreated> tenants, IReadOnlyList<TenantLease> leases, CancellationToken ct)
    {
        var firstStart = leases.Min(l => l.Lease.StartedAt);
        var readings = new List<(TenantCreated Tenant, UsageLedger.Reading Usage, List<LeaseCheck> Leases)>();
        foreach (var tenant in tenants)
        {
            var own = leases.Where(l => l.TenantKey == tenant.ApiKey).Select(l => (l.Lease, Expected: Expect(fleet, l.Lease))).ToList();
            var expected = own.Sum(l => l.Expected ?? 0);
            var usage = await UsageLedger.WaitForTotalAsync(client, tenant.ApiKey, firstStart, expected, LedgerTimeout, ct);
            Log.Info($"{tenant.Name}: usage API {(usage.Matched ? "matched" : "did not match")} after {Durations.Format(usage.Waited)}.");
            var checks = new List<LeaseCheck>();
            foreach (var (lease, leaseExpected) in own)
            {
                var nodes = lease.Nodes is { Count: > 1 } ? await ClusterLease.CheckNodesAsync(client, tenant.ApiKey, fleet, lease, ct) : null;
                checks.Add(new LeaseCheck(tenant.Name, lease, leaseExpected, UsageLedger.ForLease(usage.Report, lease.LeaseId), nodes));
            }

            readings.Add((tenant, usage, checks));
        }

        // Invoices are drafted by a job that reads the usage ledger; run it until it has caught up or time is up.
        var deadline = DateTimeOffset.UtcNow + InvoiceTimeout;
        while (true)
        {
            try
            {
                await client.RunInvoicingDraftAsync(opsKey, ct);
                var checks = new List<TenantCheck>();
                foreach (var (tenant, usage, leaseChecks) in readings)
                {
                    checks.Add(new TenantCheck(tenant, leaseChecks, usage, await client.GetInvoicesAsync(tenant.ApiKey, tenant.TenantId, ct)));
                }

                if (checks.All(c => c.Expected == c.Invoiced) || DateTimeOffset.UtcNow > deadline)
                {
                    return checks;
                }
            }
            catch (Exception ex) when (ApiException.IsTransient(ex, ct) && DateTimeOffset.UtcNow <= deadline)
            {
                Log.Warn($"Invoicing failed ({ex.Message}); trying again.");
            }

            await Task.Delay(TimeSpan.FromSeconds(2), ct);
        }
    }

    /// <summary>The lease's GPU-seconds by the metering rule, from its nodes' acknowledged heartbeats; null if not our node.</summary>
    private static decimal? Expect(SimulatedFleet fleet, Lease lease)
    {
        if (lease.Nodes is { Count: > 1 } parts)
        {
            var each = parts.Select(p => ClusterLease.Expect(fleet, p)).ToList();
            return each.All(e => e is not null) ? each.Sum() : null;
        }

        if (!fleet.Senders.TryGetValue(lease.NodeId, out var sender))
        {
            Log.Error($"Lease {lease.LeaseId} was placed on {lease.NodeId}, a node outside this demo's fleet: its usage cannot be checked.");
            return null;
        }

        return ExpectedUsage.GpuSeconds(sender.Acknowledged, lease.GpuIndices, lease.StartedAt, lease.EndedAt);
    }
}
