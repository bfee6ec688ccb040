using System.Diagnostics;
using System.Globalization;
using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.Fleet.Messaging;
using Billing.Ledger.Partitions;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Messaging;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace Billing.Benchmarks;

/// <summary>
/// The ledger alone: usage records handed to the fleet's outbox as lease grains hand them (a few at a
/// time, many grains at once), through RabbitMQ into the ledger, timed from the first hand-over to the
/// last record stored; then how long the async hourly projection takes to show them all. In the same
/// run, on the same PostgreSQL, the raw ceilings it is compared with: binary COPY of ~200-byte rows
/// and Marten's quick append at ten events per stream. Absolute figures on a shared machine move by a
/// factor of three from run to run; the ratios do not. With <c>--processes 2</c> a second ledger process
/// (<see cref="LedgerProcess"/>) stores the partitions of instance 1 of 2 while this one stores instance 0's.
/// </summary>
public static class LedgerBenchmark
{
    public static readonly string[] OptionNames = ["records", "leases", "tenants", "per-publish", "raw", "processes", "warm-up"];

    private static readonly DateTimeOffset Start = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static async Task<bool> RunAsync(Options options, CancellationToken stop)
    {
        var (records, leases, tenants, perPublish, raw, processes) =
            (options.Get("records", 50_000), options.Get("leases", 2_000), options.Get("tenants", 20), options.Get("per-publish", 4), options.Get("raw", 50_000),
                options.Get("processes", 1));
        if (processes > 2)
        {
            Console.Error.WriteLine("--processes takes 1 or 2");
            return false;
        }

        Console.WriteLine($"settings:            {records} usage records over {leases} leases of {tenants} tenants, {perPublish} per hand-over; raw ceilings on {raw} rows/events");
        Console.WriteLine($"load average:        {MachineCounters.LoadAverage()} (before)");
        await using var host = await BenchHost.StartAsync(Start, settings: processes == 1 ? null : new Dictionary<string, string>
        {
            ["Billing:Ledger:Instance"] = "0",
            ["Billing:Ledger:Instances"] = "2",
            ["Billing:Ledger:StandbyAfter"] = LedgerProcess.StandbyAfter,
        });
        using var second = processes == 1 ? null : await LedgerProcess.StartAsync(host, 1, 2, stop);
        if (second is not null)
        {
            Console.WriteLine($"ledger processes:    this one (instance 0 of 2, and the load) and pid {second.Id} (instance 1 of 2, log {second.LogPath})");
        }

        // A live ledger has planner statistics (autovacuum analyzes a new table within its first minute); a fresh
        // schema has none, and without them the projection daemon's page query rescans everything behind it.
        var warmUp = options.Get("warm-up", records);
        var (warm, _) = await StoreAsync(host, warmUp, 0, leases, tenants, "warm-up-tenant", perPublish, stop);
        await ProjectedAsync(host, warmUp, stop);
        await AnalyzeAsync(host.Schema, stop);
        Console.WriteLine($"warm-up:             {warm} records stored and projected, then the schema analyzed (what autovacuum does on a live system)");

        var (before, secondBefore) = (MachineCounters.Read(), second?.Cpu);
        var (total, seconds) = await StoreAsync(host, records, warm, leases, tenants, TenantPrefix, perPublish, stop);
        var stored = total - warm;
        var (after, secondCpu) = (MachineCounters.Read(), second?.Cpu - secondBefore);
        var rate = stored / seconds;
        Console.WriteLine($"ledger:              {stored} of {records} stored in {seconds:0.00} s -> {rate:0} usage records/s");
        Console.WriteLine($"where the time went: {after.Since(before, stored, "record")}");
        if (second is not null && secondCpu is { } cpu)
        {
            var byInstance = await StoredByInstanceAsync(host, tenants, stop);
            Console.WriteLine($"second process:      {cpu.TotalSeconds:0.0} s CPU ({cpu / (TimeSpan.FromSeconds(seconds) * Environment.ProcessorCount):P0} of the machine), " +
                $"{cpu.TotalMicroseconds / Math.Max(1, byInstance[1]):0} µs CPU per record it stored (among the others above); this one {(after.ProcessCpu - before.ProcessCpu).TotalSeconds:0.0} s CPU");
            Console.WriteLine($"stored, by owner:    instance 0 (this process) {byInstance[0]}, instance 1 (pid {second.Id}) {byInstance[1]}");
        }

        var (projected, behind) = await ProjectedAsync(host, warm + records, stop);
        projected -= warm;
        Console.WriteLine($"hourly projection:   {projected} of {records} windows in the read model {behind:0.00} s after the last was stored");

        var copy = await CopyRateAsync(raw, stop);
        var append = await QuickAppendRateAsync(host.Store, raw, stop);
        Console.WriteLine($"raw COPY:            {copy:0} rows/s (binary, 1 connection)");
        Console.WriteLine($"raw quick append:    {append:0} events/s (10 per stream, 100 streams a transaction)");
        Console.WriteLine($"ratios:              ledger = {rate / copy:P1} of COPY, {rate / append:P1} of quick append");
        Console.WriteLine($"load average:        {MachineCounters.LoadAverage()} (after)");
        host.Log.Print();
        return stored == records && projected == records;
    }

    /// <summary>Stores <paramref name="records"/> more on new leases; returns every window stored (<paramref name="already"/> before it) and the seconds it took.</summary>
    private static async Task<(long Stored, double Seconds)> StoreAsync(
        BenchHost host, int records, long already, int leases, int tenants, string tenantPrefix, int perPublish, CancellationToken stop)
    {
        var outbox = host.Services.GetRequiredService<IFleetOutbox>();
        var leaseIds = Enumerable.Range(0, leases).Select(_ => Guid.NewGuid()).ToArray();

        // Lease by lease, a few minutes at a time: what one lease grain's flush hands over.
        var handOvers = Enumerable.Range(0, records)
            .Select(i => (Lease: i % leases, Minute: i / leases))
            .GroupBy(r => (r.Lease, Chunk: r.Minute / perPublish))
            .Select(g => g.Select(r => Usage(leaseIds[r.Lease], TenantId(tenantPrefix, r.Lease % tenants), r.Minute)).ToList())
            .ToList();

        var began = Stopwatch.GetTimestamp();
        var publishing = Parallel.ForEachAsync(handOvers, new ParallelOptions { MaxDegreeOfParallelism = 256, CancellationToken = stop },
            async (usage, token) => await outbox.PublishUsageAsync(usage, token));
        long stored;
        do
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), stop);
            stored = await StoredAsync(host, stop);
        }
        while (stored < already + records && Stopwatch.GetElapsedTime(began) < Timeout);

        var seconds = Stopwatch.GetElapsedTime(began).TotalSeconds;
        await publishing;
        return (stored, seconds);
    }

    private const string TenantPrefix = "bench-tenant";

    /// <summary>
    /// Windows stored, from the ratable hours written in the same transactions (each window is <see cref="WindowGpuSeconds"/>):
    /// exact, and a few rows to sum, where counting the windows themselves scans a growing table ten times a second.
    /// </summary>
    private static async Task<long> StoredAsync(BenchHost host, CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(BenchHost.PostgresConnectionString);
        await connection.OpenAsync(stop);
        await using var sum = new NpgsqlCommand($"select coalesce(sum(total_gpu_seconds), 0) from {host.Schema}.mt_doc_ratablehour", connection);
        return (long)((decimal)(await sum.ExecuteScalarAsync(stop))! / WindowGpuSeconds);
    }

    private static string TenantId(string prefix, int tenant) => $"{prefix}-{tenant}";

    /// <summary>
    /// Records stored of the tenants each of two instances owns: with a standby delay longer than the run, a
    /// partition's records are stored by its owner alone.
    /// </summary>
    private static async Task<long[]> StoredByInstanceAsync(BenchHost host, int tenants, CancellationToken stop)
    {
        var queues = host.Services.GetRequiredService<LedgerQueues>();
        var stored = new long[2];
        await using var session = host.Store.QuerySession();
        foreach (var instance in new[] { 0, 1 })
        {
            var owner = new LedgerInstance(instance, 2, TimeSpan.Zero);
            var owned = Enumerable.Range(0, tenants).Select(t => TenantId(TenantPrefix, t)).Where(t => owner.Owns(queues.PartitionOf(t))).ToArray();
            stored[instance] = await session.Query<MeteredWindow>().CountAsync(w => w.TenantId.IsOneOf(owned), stop);
        }

        return stored;
    }

    private static UsageRecorded Usage(Guid leaseId, string tenantId, int minute) =>
        new(DeterministicGuid.Create($"bench:{leaseId:N}:{minute}"), leaseId, tenantId, "bench-node", "H100-SXM-80GB", PricingModel.OnDemand,
            Start.AddMinutes(minute), WindowGpuSeconds, Start.AddMinutes(minute + 1));

    private const decimal WindowGpuSeconds = 480m;

    /// <summary>Windows the async daemon has folded into <see cref="UsageHour"/>s, and seconds until it had them all (or gave up).</summary>
    private static async Task<(long Projected, double Seconds)> ProjectedAsync(BenchHost host, long records, CancellationToken stop)
    {
        var began = Stopwatch.GetTimestamp();
        long projected;
        do
        {
            await using var session = host.Store.QuerySession();
            projected = await session.Query<UsageHour>().SumAsync(h => h.Windows, stop);
            if (projected >= records)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), stop);
        }
        while (Stopwatch.GetElapsedTime(began) < Timeout);

        return (projected, Stopwatch.GetElapsedTime(began).TotalSeconds);
    }

    private static async Task AnalyzeAsync(string schema, CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(BenchHost.PostgresConnectionString);
        await connection.OpenAsync(stop);
        await using var analyze = new NpgsqlCommand(
            $"do $$ declare t text; begin for t in select tablename from pg_tables where schemaname = '{schema}' loop execute format('analyze %I.%I', '{schema}', t); end loop; end $$",
            connection);
        await analyze.ExecuteNonQueryAsync(stop);
    }

    private static async Task<double> CopyRateAsync(int rows, CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(BenchHost.PostgresConnectionString);
        await connection.OpenAsync(stop);
        await using (var create = new NpgsqlCommand("create temp table bench_copy (id uuid, tenant text, payload text)", connection))
        {
            await create.ExecuteNonQueryAsync(stop);
        }

        var payload = new string('x', 150);
        var began = Stopwatch.GetTimestamp();
        await using (var import = await connection.BeginBinaryImportAsync("copy bench_copy (id, tenant, payload) from stdin (format binary)", stop))
        {
            for (var i = 0; i < rows; i++)
            {
                await import.StartRowAsync(stop);
                await import.WriteAsync(Guid.NewGuid(), NpgsqlDbType.Uuid, stop);
                await import.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"bench-tenant-{i % 20}"), NpgsqlDbType.Text, stop);
                await import.WriteAsync(payload, NpgsqlDbType.Text, stop);
            }

            await import.CompleteAsync(stop);
        }

        return rows / Stopwatch.GetElapsedTime(began).TotalSeconds;
    }

    private static async Task<double> QuickAppendRateAsync(IDocumentStore store, int events, CancellationToken stop)
    {
        const int PerStream = 10, StreamsPerTransaction = 100;
        var began = Stopwatch.GetTimestamp();
        for (var done = 0; done < events; done += PerStream * StreamsPerTransaction)
        {
            await using var session = store.LightweightSession();
            for (var s = 0; s < StreamsPerTransaction; s++)
            {
                var leaseId = Guid.NewGuid();
                session.Events.Append(leaseId, Enumerable.Range(0, PerStream).Select(m => (object)Usage(leaseId, "raw-tenant", m)).ToArray());
            }

            await session.SaveChangesAsync(stop);
        }

        return events / Stopwatch.GetElapsedTime(began).TotalSeconds;
    }
}
