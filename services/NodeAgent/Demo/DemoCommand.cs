using System.CommandLine;
using System.Globalization;
using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;
using Billing.NodeAgent.Fleet;
using Billing.NodeAgent.Leasing;
using Billing.NodeAgent.Metering;
using Billing.NodeAgent.Models;

namespace Billing.NodeAgent.Demo;

/// <summary>
/// <c>demo</c>: the end-to-end proof. A simulated fleet in fabrics and racks, tenants that lease and
/// release GPUs, one tenant's cluster lease of whole nodes one of which dies midway and is replaced,
/// and a check that the usage API and the invoices carry exactly the GPU-seconds that the agents'
/// own acknowledged heartbeats imply, node by node for the cluster; beside them a model gateway
/// reports the tenants' token usage, and the usage API and the invoices must carry exactly the tokens
/// it reported and the amounts the published prices give for them.
/// </summary>
public static class DemoCommand
{
    private sealed record Settings(
        Uri Api, string OpsKey, int Nodes, int Gpus, int Tenants, int LeasesPerTenant, TimeSpan Duration, TimeSpan Interval, string Sku, string Region,
        FleetTopology Topology, int ClusterNodes, int ModelRequests);

    private const int Concurrency = 32;
    private static readonly TimeSpan LeasePatience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LedgerTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan InvoiceTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan GatewayInterval = TimeSpan.FromSeconds(5);

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
        var modelRequests = CliOptions.Count("--model-requests", 60, "Model requests each tenant makes every 5 s through the simulated model gateway (0: none)", max: 400, min: 0);
        var command = new Command("demo", "Run a simulated fleet with tenants' leases and a cluster lease that loses a node, then check usage and invoices against the heartbeats; exit 0 only if all match")
        {
            api, opsKey, nodes, gpus, tenants, leases, duration, interval, sku, region, fabrics, rackSize, clusterNodes, modelRequests,
        };
        command.SetGuardedAction((parse, ct) => RunAsync(
            new Settings(parse.GetValue(api)!, parse.GetValue(opsKey)!, parse.GetValue(nodes), parse.GetValue(gpus), parse.GetValue(tenants),
                parse.GetValue(leases), parse.GetValue(duration), parse.GetValue(interval), parse.GetValue(sku)!, parse.GetValue(region)!,
                new FleetTopology(parse.GetValue(fabrics), parse.GetValue(rackSize)), parse.GetValue(clusterNodes), parse.GetValue(modelRequests)),
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

        var ingest = await client.IssueKeyAsync(settings.OpsKey, new IssueKey("ingest", $"demo-{runId}-model-gateway"), ct);
        var gateway = new ModelGateway(client, ingest.Key, $"urn:billing-demo:{runId}:model-gateway", new TokenTraffic(seed: 2026));
        var modelTenants = settings.ModelRequests > 0 ? tenants : [];
        using var stopTraffic = new CancellationTokenSource();
        var traffic = Task.CompletedTask;

        var fleet = new SimulatedFleet(client, nodes, new SimulationSettings(settings.Interval, 0, 0), keepAcknowledged: true);
        fleet.Start();
        IReadOnlyList<TenantLease> settled;
        try
        {
            await fleet.WhenAllReportedAsync(settings.Interval + TimeSpan.FromSeconds(30), ct);
            Log.Info("Every node has posted a heartbeat; requesting the cluster lease, then the other leases.");
            var cluster = await ClusterLease.StartAsync(client, clusterTenant, settings.Sku, settings.ClusterNodes * settings.Gpus, LeasePatience, ct);
            var leases = (await RequestLeasesAsync(client, tenants, settings, ct)).Append(cluster).ToList();
            traffic = gateway.RunAsync(modelTenants.Select(t => t.TenantId).ToList(), settings.ModelRequests, GatewayInterval, stopTraffic.Token, ct);

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
            await stopTraffic.CancelAsync();
            await fleet.StopAsync(TimeSpan.FromSeconds(5));
        }

        await traffic;
        if (modelTenants.Count > 0)
        {
            Log.Info("Model gateway: reporting the events it held back, late.");
            await gateway.SendLateAsync(modelTenants.Select(t => t.TenantId).ToList(), ct);
        }

        Console.WriteLine($"Agents: {fleet.Stats}.");
        Console.WriteLine($"Model gateway: {gateway.Stats}.");
        var (checks, models) = await CheckAsync(client, settings.OpsKey, fleet, [.. tenants, clusterTenant], settled, gateway, modelTenants, ct);
        DemoReport.Print(checks, models, gateway.Stats, Console.Out);
        return checks.All(c => c.Matches) && models.All(m => m.Matches) && gateway.Stats.Unexpected == 0 ? 0 : 1;
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

    private static async Task<(IReadOnlyList<TenantCheck>, IReadOnlyList<ModelCheck>)> CheckAsync(
        ApiClient client, string opsKey, SimulatedFleet fleet, IReadOnlyList<TenantCreated> tenants, IReadOnlyList<TenantLease> leases,
        ModelGateway gateway, IReadOnlyList<TenantCreated> modelTenants, CancellationToken ct)
    {
        var firstStart = leases.Min(l => l.Lease.StartedAt);
        var readings = new List<(TenantCreated Tenant, Polled<UsageReport> Usage, List<LeaseCheck> Leases)>();
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

        var prices = await client.GetPricesAsync(opsKey, ct);
        var meterPrices = prices.Meters.Single(m => m.Meter == ModelGateway.Meter);
        var reported = gateway.Totals();
        var tokenUsage = new List<(TenantCreated Tenant, IReadOnlyDictionary<string, decimal> Reported, MeterUsageReport Usage)>();
        foreach (var tenant in modelTenants)
        {
            var own = reported.GetValueOrDefault(tenant.TenantId) ?? new Dictionary<string, decimal>();
            var usage = await TokenUsage.WaitForTotalAsync(client, tenant.ApiKey, ModelGateway.Meter, own.Values.Sum(), LedgerTimeout, ct);
            Log.Info($"{tenant.Name}: token usage API {(usage.Matched ? "matched" : "did not match")} after {Durations.Format(usage.Waited)}.");
            tokenUsage.Add((tenant, own, usage.Report));
        }

        // Invoices are drafted by a job that reads the usage ledger; run it until it has caught up or time is up.
        var deadline = DateTimeOffset.UtcNow + InvoiceTimeout;
        while (true)
        {
            try
            {
                await client.RunInvoicingDraftAsync(opsKey, ct);
                var checks = new List<TenantCheck>();
                var models = new List<ModelCheck>();
                foreach (var (tenant, usage, leaseChecks) in readings)
                {
                    var invoices = await client.GetInvoicesAsync(tenant.ApiKey, tenant.TenantId, ct);
                    checks.Add(new TenantCheck(tenant, leaseChecks, usage, invoices));
                    if (tokenUsage.FirstOrDefault(u => u.Tenant == tenant) is { Tenant: not null } tokens)
                    {
                        models.Add(ModelCheck.Of(tenant.Name, tokens.Reported, tokens.Usage, invoices, meterPrices, prices.MinorUnitDigits));
                    }
                }

                if ((checks.All(c => c.Expected == c.Invoiced) && models.All(m => m.Expected.Sum(l => l.Quantity) == m.Invoiced.Sum(l => l.Quantity)))
                    || DateTimeOffset.UtcNow > deadline)
                {
                    return (checks, models);
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
