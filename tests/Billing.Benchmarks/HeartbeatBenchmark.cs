using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Billing.Contracts;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Weasel.Core;

namespace Billing.Benchmarks;

/// <summary>
/// Heartbeats accepted per second over HTTP by one host (Kestrel on loopback; the agents' client in
/// this process), every node leased, so each heartbeat also meters its lease; then a tenant's month of
/// usage at hourly grain read through <c>GET /v1/usage</c> (by SKU; by lease too when idle), p50/p99, idle and under a paced heartbeat
/// load. Each figure comes with the raw ceiling measured in the same run, the load average, the CPU
/// and allocations it cost, and the spans the time went to. The billing clock follows the real one.
/// </summary>
public static class HeartbeatBenchmark
{
    public static readonly string[] OptionNames = ["nodes", "gpus", "seconds", "concurrency", "paced-rate", "lease-hours", "queries"];

    private const string Sku = "H100-SXM-80GB";

    public static async Task<bool> RunAsync(Options options, CancellationToken stop)
    {
        var (nodeCount, gpus, seconds, concurrency) = (options.Get("nodes", 2000), options.Get("gpus", 8), options.Get("seconds", 10), options.Get("concurrency", 128));
        var (pacedRate, leaseHours, queries) = (options.Get("paced-rate", 5000), options.Get("lease-hours", 24), options.Get("queries", 200));
        Console.WriteLine($"settings:            {nodeCount} nodes x {gpus} GPUs, one lease each (one tenant), {concurrency} posts in flight, {seconds} s flat out; " +
            $"{queries} month queries idle and under {pacedRate} heartbeats/s, each lease {leaseHours} h in the month");
        Console.WriteLine($"load average:        {MachineCounters.LoadAverage()} (at start)");

        using var spans = new SpanTimes();
        await using var host = await BenchHost.StartAsync(DateTimeOffset.UtcNow, overKestrel: true);
        host.RemoveRecurringJobs();
        using var clockStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var clock = FollowRealTimeAsync(host.Clock, clockStop.Token);
        Console.WriteLine($"host:                in-process over Kestrel at {host.BaseAddress}, schema {host.Schema}");

        using var agents = HeartbeatTraffic.Client(host.BaseAddress, concurrency);
        var ops = host.Client(BenchHost.OpsKey);
        var nodes = await RegisterAsync(ops, nodeCount, gpus, stop);
        var traffic = new HeartbeatTraffic(agents, nodes, gpus);
        var first = await traffic.OnceEachAsync(concurrency, stop);
        var tenant = await (await ops.PostAsJsonAsync("/v1/tenants", new { name = "bench-heartbeats" }, stop)).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(stop);
        var tenantClient = host.Client(tenant.GetProperty("apiKey").GetString()!);
        // Nodes stay reachable (a heartbeat within 45 s) however long placing and seeding take on a busy machine.
        using var setup = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var keepAlive = traffic.RunAsync(concurrency, rate: nodeCount / 10.0, setup.Token, stop);
        var leases = await LeaseAllAsync(tenantClient, nodeCount, gpus, stop);
        var month = await SeedMonthAsync(host, tenant.GetProperty("tenantId").GetString()!, leases, leaseHours, stop);
        await setup.CancelAsync();
        var kept = await keepAlive;
        Console.WriteLine($"fleet:               {nodes.Count} nodes registered, {leases.Count} leases running for tenant {tenant.GetProperty("tenantId").GetString()}");

        var ceiling = await RawCeiling.InsertRowsPerSecondAsync(host.Schema, TimeSpan.FromSeconds(2), stop);
        Console.WriteLine($"raw ceiling:         {ceiling:0} rows/s by multi-row INSERT (1,000 a statement, one connection), measured now (FACTS.md, quiet: 47,000)");
        var beforeHttp = MachineCounters.Read();
        var httpCeiling = await HttpCeiling.PostsPerSecondAsync(nodes, gpus, concurrency, TimeSpan.FromSeconds(3), stop);
        Console.WriteLine($"http ceiling:        {httpCeiling.PerSecond:0} posts/s answered 202 by a bare Kestrel endpoint that reads the body (same client, posts and concurrency; " +
            $"the platform's host idle beside it), measured now");
        Console.WriteLine($"where it went:       {MachineCounters.Read().Since(beforeHttp, httpCeiling.Accepted, "post")}");

        var beforeIdle = MachineCounters.Read();
        var idle = await QueryMonthAsync(tenantClient, month, queries, "sku", stop);
        Console.WriteLine($"month query, idle:   {Latency.Summary(idle)} ({queries} reads, {month.From:yyyy-MM}, hourly grain by SKU: " +
            $"sums of {month.RatableHours} ratable hours for {month.Rows} lease hours)");
        Console.WriteLine($"where it went:       {MachineCounters.Read().Since(beforeIdle, queries, "query")}");
        var byLease = await QueryMonthAsync(tenantClient, month, Math.Max(1, queries / 10), "lease", stop);
        Console.WriteLine($"by lease, idle:      {Latency.Summary(byLease)} ({byLease.Count} reads, sums of the {month.Rows} lease hours, one bucket each)");

        var before = MachineCounters.Read();
        var flat = await traffic.FlatOutAsync(concurrency, TimeSpan.FromSeconds(seconds), stop);
        var counters = MachineCounters.Read().Since(before, flat.Accepted, "heartbeat");
        Console.WriteLine($"heartbeats:          {flat.PerSecond:0}/s accepted over HTTP ({flat.Accepted} in {flat.Elapsed.TotalSeconds:0.0} s, {flat.RefusedText}); " +
            $"{flat.PerSecond / ceiling:P0} of the raw INSERT ceiling and {flat.PerSecond / httpCeiling.PerSecond:P0} of the HTTP ceiling measured now; goal 20,000/s");
        Console.WriteLine($"heartbeat latency:   {Latency.Summary(flat.Latencies)}");
        Console.WriteLine($"where it went:       {counters}");

        // Where the time goes, from a few seconds more with every span recorded (untraced above, as a host
        // without a trace exporter runs).
        spans.Start();
        var traced = await traffic.FlatOutAsync(concurrency, TimeSpan.FromSeconds(3), stop);
        spans.Stop();
        Console.WriteLine($"traced:              {traced.PerSecond:0}/s for 3 s more with every span recorded ({traced.RefusedText})");
        spans.Print(top: 10);
        Console.WriteLine($"load average:        {MachineCounters.LoadAverage()} (after the flat-out phase)");

        using var pacing = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var paced = traffic.RunAsync(concurrency, pacedRate, pacing.Token, stop);
        await Task.Delay(TimeSpan.FromSeconds(2), stop);
        var loaded = await QueryMonthAsync(tenantClient, month, queries, "sku", stop);
        await pacing.CancelAsync();
        var pacedResult = await paced;
        await clockStop.CancelAsync();
        await clock;
        Console.WriteLine($"month query, loaded: {Latency.Summary(loaded)} under {pacedResult.PerSecond:0} heartbeats/s (asked {pacedRate}/s, {pacedResult.RefusedText}); goal p99 under 20 ms");

        var stored = await CountStoredAsync(host.Schema, stop);
        var acknowledged = first.Accepted + kept.Accepted + flat.Accepted + traced.Accepted + pacedResult.Accepted;
        var durable = stored >= acknowledged;
        Console.WriteLine($"durable:             {stored} heartbeats in fleet_heartbeats for {acknowledged} answered 202 -> {(durable ? "OK" : "MISSING")}");
        Console.WriteLine($"load average:        {MachineCounters.LoadAverage()} (at the end)");
        host.Log.Print();
        return durable && flat.Refused.Count == 0;
    }

    private static async Task<IReadOnlyList<BenchNode>> RegisterAsync(HttpClient ops, int count, int gpus, CancellationToken stop)
    {
        var nodes = new BenchNode[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = stop }, async (i, token) =>
        {
            var nodeId = $"bench-hb-{i:D6}";
            var registered = await (await ops.PostAsJsonAsync("/v1/nodes", new { nodeId, sku = Sku, gpuCount = gpus, region = "bench-1" }, token))
                .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(token);
            nodes[i] = new BenchNode(nodeId, registered.GetProperty("agentKey").GetString()!);
        });
        return nodes;
    }

    private static async Task<IReadOnlyList<Guid>> LeaseAllAsync(HttpClient tenant, int count, int gpus, CancellationToken stop)
    {
        var leases = new Guid[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = stop }, async (i, token) =>
        {
            var lease = await (await tenant.PostAsJsonAsync("/v1/leases", new { sku = Sku, gpuCount = gpus, pricing = "OnDemand" }, token))
                .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(token);
            leases[i] = lease.GetProperty("leaseId").GetGuid();
        });
        return leases;
    }

    private sealed record SeededMonth(DateTimeOffset From, DateTimeOffset To, int Rows, int RatableHours);

    /// <summary>
    /// Last month's usage of the tenant's leases, each running <paramref name="hours"/> whole hours somewhere in it
    /// at 8 GPU-seconds a second, stored as the ledger keeps it for reads: the ratable hours the ledger writes
    /// with the windows (folded by <see cref="RatableHour.AddTo"/> from each lease's minute windows), the tenant-month's
    /// revision, and the lease hours the projection folds from the same windows. The windows themselves (minute
    /// reads) are not stored: the month query at hourly grain does not read them.
    /// </summary>
    private static async Task<SeededMonth> SeedMonthAsync(BenchHost host, string tenantId, IReadOnlyList<Guid> leases, int hours, CancellationToken stop)
    {
        var now = DateTimeOffset.UtcNow;
        var to = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var from = to.AddMonths(-1);
        var span = (int)(to - from).TotalHours;
        hours = Math.Min(hours, span);
        var period = BillingPeriod.Of(from);
        var ratable = new Dictionary<string, RatableHour>();
        var leaseHours = new List<UsageHour>();
        foreach (var (lease, i) in leases.Select((lease, i) => (lease, i)))
        {
            foreach (var hour in Enumerable.Range((i * 7919) % (span - hours + 1), hours).Select(h => from.AddHours(h)))
            {
                var windows = Enumerable.Range(0, RatableHour.Minutes)
                    .Select(m => new MeteredWindow(Guid.NewGuid(), lease, tenantId, Sku, PricingModel.OnDemand, hour.AddMinutes(m), 8 * 60m, Revision: 1))
                    .ToList();
                windows.ForEach(w => RatableHour.AddTo(ratable, w).Revision = 1);
                leaseHours.Add(new UsageHour
                {
                    Id = $"{tenantId}|{lease:N}|{hour:yyyyMMddHH}",
                    TenantId = tenantId,
                    LeaseId = lease,
                    Sku = Sku,
                    Pricing = PricingModel.OnDemand,
                    HourStart = hour,
                    GpuSeconds = windows.Sum(w => w.GpuSeconds),
                    Windows = windows.Count,
                });
            }
        }

        await host.Store.BulkInsertAsync(ratable.Values.ToList(), BulkInsertMode.InsertsOnly, 10_000, stop);
        await host.Store.BulkInsertAsync([new UsageRevision { Id = UsageRevision.IdFor(tenantId, period), TenantId = tenantId, Period = period, Revision = 1 }],
            BulkInsertMode.InsertsOnly, 10_000, stop);
        await host.Store.BulkInsertAsync(leaseHours, BulkInsertMode.InsertsOnly, 10_000, stop);
        await AnalyzeAsync(host, stop);
        return new SeededMonth(from, to, leaseHours.Count, ratable.Count);
    }

    private static async Task<IReadOnlyList<long>> QueryMonthAsync(HttpClient tenant, SeededMonth month, int count, string groupBy, CancellationToken stop)
    {
        var uri = new Uri(
            $"/v1/usage?from={month.From.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}&to={month.To.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}&granularity=hour&groupBy={groupBy}",
            UriKind.Relative);
        var latencies = new List<long>();
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var report = await tenant.GetFromJsonAsync<JsonElement>(uri, stop);
            latencies.Add(Stopwatch.GetTimestamp() - start);
            if (i == 0 && report.GetProperty("totalGpuSeconds").GetDecimal() != month.Rows * 8 * 3600m)
            {
                throw new InvalidOperationException($"The month's total is {report.GetProperty("totalGpuSeconds")}, not the {month.Rows * 8 * 3600m} GPU-seconds seeded.");
            }
        }

        return latencies;
    }

    /// <summary>Statistics of the seeded tables, as autovacuum gathers them after a load this size, so the plans are the ones a live store gets.</summary>
    private static async Task AnalyzeAsync(BenchHost host, CancellationToken stop)
    {
        var tables = new[] { typeof(RatableHour), typeof(UsageHour) }.Select(t => host.Store.Options.FindOrResolveDocumentType(t).TableName.QualifiedName);
        await using var connection = new NpgsqlConnection(BenchHost.PostgresConnectionString);
        await connection.OpenAsync(stop);
        await using var analyze = new NpgsqlCommand($"analyze {string.Join(", ", tables)}", connection);
        await analyze.ExecuteNonQueryAsync(stop);
    }

    private static async Task<long> CountStoredAsync(string schema, CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(BenchHost.PostgresConnectionString);
        await connection.OpenAsync(stop);
        await using var count = new NpgsqlCommand($"select count(*) from {schema}.fleet_heartbeats", connection);
        return (long)(await count.ExecuteScalarAsync(stop))!;
    }

    /// <summary>Keeps the billing clock on real time, so heartbeats stamped with the real clock are current.</summary>
    private static async Task FollowRealTimeAsync(FakeTimeProvider clock, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (DateTimeOffset.UtcNow > clock.GetUtcNow())
            {
                clock.SetUtcNow(DateTimeOffset.UtcNow);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), CancellationToken.None);
        }
    }
}
