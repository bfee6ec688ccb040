using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.Fleet.Pricing;
using Billing.Invoicing.Audit;
using Billing.Invoicing.Commitments;
using Billing.Invoicing.Invoices;
using Billing.Invoicing.Jobs;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Billing.ServiceDefaults.Pricing;
using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Weasel.Core;

namespace Billing.Benchmarks;

/// <summary>
/// Closing a month: a month of usage for many tenants written straight into the ledger's read model
/// (<see cref="MeteredWindow"/> documents, bulk inserted), with the spot prices and commitments it is
/// rated with; then the billing clock moves past the month's end plus the grace and the
/// <c>invoicing-draft</c> job runs once, timed: it rates every tenant's month, drafts the invoices,
/// issues them with gapless numbers, and looks for late usage of the closed month.
/// </summary>
/// <remarks>
/// Leases go round-robin over the tenants (every tenant has usage when leases &gt;= tenants); each
/// lease has a SKU of the price book, a pricing model (60 % on demand, 25 % spot, 15 % reserved),
/// 1/2/4/8 GPUs (40/30/20/10 %) and consecutive minute windows from a random minute of the month, the
/// first one partial. Spot prices move every hour; every tenant with reserved usage of a SKU has a
/// one-month commitment for half the GPUs of its largest reserved lease of it (at least 1), so
/// reserved usage is partly covered and partly overage. Same seed, same data.
/// </remarks>
public static class MonthCloseBenchmark
{
    public static readonly string[] OptionNames = ["tenants", "leases", "windows-per-lease", "late-tenants"];

    private const int Seed = 20_260_101;
    private const int InsertChunk = 100_000;
    private const int InsertBatch = 10_000;
    private const int RatingSample = 200;
    private static readonly TimeSpan AfterMonthEnd = TimeSpan.FromMinutes(61);
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(15);

    public static async Task<bool> RunAsync(Options options, CancellationToken stop)
    {
        var (tenants, leases, windowsPerLease) = (options.Get("tenants", 10_000), options.Get("leases", 100_000), options.Get("windows-per-lease", 6));

        // The month closed is the one before the current (real) month; the billing clock starts a day
        // before it, so the price book the host records at start is in force for all of it.
        var today = DateTimeOffset.UtcNow;
        var periodStart = new DateTimeOffset(today.Year, today.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(-1);
        var periodEnd = periodStart.AddMonths(1);
        var period = BillingPeriod.Of(periodStart);
        var monthMinutes = (int)(periodEnd - periodStart).TotalMinutes;
        if (windowsPerLease > monthMinutes)
        {
            Console.Error.WriteLine($"--windows-per-lease is at most {monthMinutes} (the minutes of {period})");
            return false;
        }

        var clockStart = periodStart - TimeSpan.FromDays(1);
        var closeAt = periodEnd + AfterMonthEnd;
        var invoicesExpected = Math.Min(tenants, leases);
        Console.WriteLine($"settings:            {tenants} tenants, {leases} leases, {windowsPerLease} minute windows per lease " +
            $"({(long)leases * windowsPerLease} windows), period {period}");
        await using var host = await BenchHost.StartAsync(clockStart);
        Console.WriteLine($"host:                in-process, schema {host.Schema}, billing clock from {clockStart:O}");

        // Hangfire fires the recurring jobs on real time; this benchmark runs the job itself, alone.
        host.RemoveRecurringJobs();

        PriceHistory prices;
        await using (var query = host.Store.QuerySession())
        {
            prices = await PriceHistory.LoadAsync(query, stop);
        }

        var book = prices.At(periodStart);
        var skus = book.Skus.Keys.Order(StringComparer.Ordinal).ToList();
        Console.WriteLine($"price book:          {prices.Versions.Count} version(s); in force for {period}: {string.Join(", ", skus)} ({book.Currency})");

        // Usage: bulk inserted in chunks, generated as it goes.
        var generated = new Generated();
        var insertBegan = Stopwatch.GetTimestamp();
        var chunk = new List<MeteredWindow>(InsertChunk);
        var hours = new Dictionary<string, RatableHour>();
        foreach (var lease in Leases(tenants, leases, windowsPerLease, monthMinutes, skus))
        {
            generated.Add(lease);
            foreach (var window in Windows(lease, periodStart, windowsPerLease))
            {
                chunk.Add(window);
                generated.Add(window);
                RatableHour.AddTo(hours, window).Revision = 1;
            }

            if (chunk.Count >= InsertChunk)
            {
                await host.Store.BulkInsertAsync(chunk, BulkInsertMode.InsertsOnly, InsertBatch, stop);
                chunk.Clear();
            }
        }

        if (chunk.Count > 0)
        {
            await host.Store.BulkInsertAsync(chunk, BulkInsertMode.InsertsOnly, InsertBatch, stop);
        }

        // What the ledger writes with the windows: the hours rating reads, and a usage revision per tenant.
        await host.Store.BulkInsertAsync(hours.Values.ToList(), BulkInsertMode.InsertsOnly, InsertBatch, stop);
        var revisions = hours.Values.Select(h => h.TenantId).Distinct()
            .Select(tenantId => new UsageRevision { Id = UsageRevision.IdFor(tenantId, period), TenantId = tenantId, Period = period, Revision = 1 })
            .ToList();
        await host.Store.BulkInsertAsync(revisions, BulkInsertMode.InsertsOnly, InsertBatch, stop);
        var inserted = Stopwatch.GetElapsedTime(insertBegan);
        Console.WriteLine($"windows inserted:    {generated.Windows} in {inserted.TotalSeconds:0.00} s ({generated.Windows / inserted.TotalSeconds:0} windows/s, " +
            $"bulk insert in chunks of {InsertChunk}, with {hours.Count} ratable hours); {generated.GpuSeconds} GPU-seconds; " +
            $"{generated.ByPricing[PricingModel.OnDemand]} on demand, {generated.ByPricing[PricingModel.Spot]} spot, {generated.ByPricing[PricingModel.Reserved]} reserved");

        var setupBegan = Stopwatch.GetTimestamp();
        var spotChanges = await AddSpotPricesAsync(host, book, skus, periodStart, periodEnd, stop);
        var commitments = await AddCommitmentsAsync(host, generated.ReservedGpus, periodStart, clockStart, stop);
        await AnalyzeAsync(host, stop);
        long stored;
        await using (var query = host.Store.QuerySession())
        {
            stored = await query.Query<MeteredWindow>().LongCountAsync(w => w.WindowStart >= periodStart && w.WindowStart < periodEnd, stop);
        }

        Console.WriteLine($"rating inputs:       {stored} windows stored in {period}; {spotChanges} spot price changes ({skus.Count} SKUs, hourly); " +
            $"{commitments} commitments; table analyzed; in {Stopwatch.GetElapsedTime(setupBegan).TotalSeconds:0.00} s");
        if (stored != generated.Windows)
        {
            Console.WriteLine($"FAIL:                {generated.Windows} windows inserted but {stored} stored in the period");
            return false;
        }

        if (!await host.WaitForJobsIdleAsync(TimeSpan.FromMinutes(2), stop))
        {
            Console.WriteLine("warning:             a Hangfire job fired before the schedule was removed is still running; the close races it");
        }

        // The close, timed.
        var job = host.Services.GetRequiredKeyedService<IBillingJob>(DraftInvoicesJob.Id);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        var peakBefore = process.PeakWorkingSet64;
        var peakReset = ResetPeakWorkingSet();
        process.Refresh();
        var before = new Snapshot(process.WorkingSet64, GC.GetTotalMemory(false), GC.GetTotalAllocatedBytes(), GC.CollectionCount(2), process.TotalProcessorTime);

        var loadBefore = LoadAverage();
        host.Clock.SetUtcNow(closeAt);
        Console.WriteLine($"close:               billing clock set to {closeAt:O} (month end + {AfterMonthEnd.TotalMinutes:0} min); running {DraftInvoicesJob.Id} once");
        var began = Stopwatch.GetTimestamp();
        var monitor = new CloseMonitor(host, period, invoicesExpected, began);
        using var monitorStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var monitoring = monitor.RunAsync(monitorStop.Token);
        using var trace = new DbTrace(host.Schema);
        var finished = true;
        try
        {
            using (trace.Start())
            {
                await job.RunAsync(stop);
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Interrupted (Ctrl+C): still print how far the close got and what it cost so far.
            finished = false;
        }

        var closed = Stopwatch.GetElapsedTime(began);
        await monitorStop.CancelAsync();
        await monitoring;

        process.Refresh();
        var after = new Snapshot(process.WorkingSet64, GC.GetTotalMemory(false), GC.GetTotalAllocatedBytes(), GC.CollectionCount(2), process.TotalProcessorTime);
        var peakAfter = process.PeakWorkingSet64;
        var cpu = after.Cpu - before.Cpu;
        Console.WriteLine(finished
            ? $"close duration:      {closed.TotalSeconds:0.00} s; process CPU {cpu.TotalSeconds:0.00} s ({cpu / closed:0.00} of {Environment.ProcessorCount} cores)"
            : $"CANCELLED:           the close was interrupted after {closed.TotalSeconds:0.00} s ({monitor.Last}); process CPU {cpu.TotalSeconds:0.00} s");
        Console.WriteLine($"machine load:        1-minute load average {loadBefore} before the close, {LoadAverage()} after " +
            "(every process on this machine, PostgreSQL included)");
        if (finished)
        {
            Console.WriteLine($"per 1,000 tenants:   {closed.TotalSeconds / (invoicesExpected / 1000.0):0.00} s (of {invoicesExpected} tenants with usage)");
        }

        Console.WriteLine($"peak working set:    before the close {Mib(peakBefore)} (process lifetime, bulk insert included); " +
            (peakReset ? $"during the close {Mib(peakAfter)} (peak reset just before it)" : $"after the close {Mib(peakAfter)} (lifetime; peak could not be reset)"));
        Console.WriteLine($"working set:         {Mib(before.WorkingSet)} before, {Mib(after.WorkingSet)} after, sampled max {Mib(monitor.MaxWorkingSet)} during");
        Console.WriteLine($"managed heap:        GC.GetTotalMemory {Mib(before.Heap)} before, {Mib(after.Heap)} after, sampled max {Mib(monitor.MaxHeap)} during; " +
            $"{Mib(after.Allocated - before.Allocated)} allocated, {after.Gen2 - before.Gen2} gen-2 GCs");
        monitor.PrintPhases(closed, finished, before.Cpu, after.Cpu);
        trace.Print(closed);
        if (!finished)
        {
            host.Log.Print();
            throw new OperationCanceledException(stop);
        }

        var ok = await VerifyAsync(host, period, closeAt.Year, invoicesExpected, generated.GpuSeconds, stop);
        await PrintBreakdownAsync(host, period, prices, closeAt.Year, stop);
        ok &= await LateUsageRunAsync(host, job, period, options.Get("late-tenants", 100), stop);
        host.Log.Print();
        return ok;
    }

    /// <summary>
    /// After the close: a late window for some tenants, stored the ledger's way, then one more job
    /// run, timed. A run's cost should follow the tenants that changed, not the month's size.
    /// </summary>
    private static async Task<bool> LateUsageRunAsync(BenchHost host, IBillingJob job, string period, int lateTenants, CancellationToken stop)
    {
        var (_, end) = BillingPeriod.Bounds(period);
        await using (var connection = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(stop))
        await using (var transaction = await connection.BeginTransactionAsync(stop))
        await using (var session = host.Store.LightweightSession(SessionOptions.ForTransaction(transaction, shouldAutoCommit: true)))
        {
            var windows = Enumerable.Range(1, lateTenants)
                .Select(i => new MeteredWindow(Guid.NewGuid(), Guid.NewGuid(), $"bench-tenant-{i:D6}", "H100-SXM-80GB", PricingModel.OnDemand, end.AddMinutes(-1), 36m))
                .ToList();
            await UsageRollups.StoreAsync(session, connection, windows, stop);
            await session.SaveChangesAsync(stop);
        }

        var began = Stopwatch.GetTimestamp();
        await job.RunAsync(stop);
        var took = Stopwatch.GetElapsedTime(began);
        await using var query = host.Store.QuerySession();
        var next = BillingPeriod.Of(end);
        var adjusted = (await query.Query<Invoice>().Where(i => i.Period == next).ToListAsync(stop))
            .Count(i => i.Lines.Any(l => l.AdjustsPeriod == period && l.GpuSeconds == 36m));
        Console.WriteLine($"late usage run:      {took.TotalSeconds:0.00} s for the next job run after {lateTenants} tenants got a late window " +
            $"(of {period}, issued): {adjusted} adjustment drafts of {next} -> {(adjusted == lateTenants ? "OK" : "MISMATCH")}");
        return adjusted == lateTenants;
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):0} MiB";

    /// <summary>The invoices of the period: all issued, numbered 1..N of the year without a gap, billing every inserted GPU-second.</summary>
    private static async Task<bool> VerifyAsync(BenchHost host, string period, int year, int expected, decimal gpuSeconds, CancellationToken stop)
    {
        await using var query = host.Store.QuerySession();
        var issuedCount = await query.Query<Invoice>().CountAsync(i => i.Period == period && i.Status == InvoiceStatus.Issued, stop);
        var invoices = await query.Query<Invoice>().Where(i => i.Period == period).ToListAsync(stop);
        var issued = invoices.Where(i => i.Status == InvoiceStatus.Issued).ToList();
        var prefix = $"INV-{year}-";
        var sequences = issued
            .Select(i => i.Number is { } n && n.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(n[prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : -1)
            .Order()
            .ToList();
        var gapless = sequences.Count > 0 && sequences.Select((s, i) => s == i + 1).All(same => same);
        var billed = issued.SelectMany(i => i.Lines).Where(l => l.Charge != Charge.Commitment && l.AdjustsPeriod is null).Sum(l => l.GpuSeconds);
        var lines = issued.Sum(i => i.Lines.Count);
        var total = issued.Sum(i => i.Total);

        Console.WriteLine($"invoices issued:     {issuedCount} of {expected} expected ({invoices.Count - issued.Count} of the period not issued), " +
            $"{lines} lines, total {total} {invoices.FirstOrDefault()?.Currency}");
        Console.WriteLine($"numbers:             {(sequences.Count > 0 ? $"{prefix}{sequences[0]:D6} .. {prefix}{sequences[^1]:D6}" : "none")}, " +
            $"1..{issued.Count} gapless -> {(gapless ? "OK" : "FAIL")}");
        Console.WriteLine($"usage billed:        {billed} of {gpuSeconds} GPU-seconds inserted -> {(billed == gpuSeconds ? "OK" : "MISMATCH")}");
        return issuedCount == expected && issued.Count == invoices.Count && gapless && billed == gpuSeconds;
    }

    /// <summary>
    /// Pieces of the close measured again on their own, after it: loading the month's rating inputs,
    /// rating tenants from them (a sample), and the reads one issue makes.
    /// </summary>
    private static async Task PrintBreakdownAsync(BenchHost host, string period, PriceHistory prices, int year, CancellationToken stop)
    {
        Console.WriteLine("measured alone, after the close:");
        await using var query = host.Store.QuerySession();
        var began = Stopwatch.GetTimestamp();
        var spot = await SpotPriceHistory.LoadAsync(query, prices.Latest.Skus.Keys, stop);
        var scope = await RatingScope.LoadAsync(query, period, period, prices, spot, stop);
        var loaded = Stopwatch.GetElapsedTime(began);
        Console.WriteLine($"  next run's find:   {loaded.TotalSeconds:0.00} s (RatingScope.LoadAsync after the close: {scope.Changed.Count} tenants changed, so none is rated)");

        var tenants = await query.Query<UsageRevision>().Where(r => r.Period == period).Select(r => r.TenantId).ToListAsync(stop);
        var sample = tenants.Order(StringComparer.Ordinal).Take(RatingSample).ToArray();
        began = Stopwatch.GetTimestamp();
        var inputs = await scope.InputsAsync(query, sample, stop);
        foreach (var tenantId in sample)
        {
            _ = inputs.Lines(tenantId);
        }

        var rated = Stopwatch.GetElapsedTime(began);
        var perTenant = rated / Math.Max(1, sample.Length);
        Console.WriteLine($"  rate tenants:      {perTenant.TotalMilliseconds:0.00} ms per tenant (read its hours + rate, {sample.Length} tenants timed) " +
            $"-> ~{(perTenant * tenants.Count).TotalSeconds:0.0} s for all {tenants.Count} (extrapolated)");

        // What one issue reads: the invoice's stream (an inline snapshot) and the year's number stream.
        var numbers = InvoiceNumberSequence.StreamFor(year);
        var invoiceId = await query.Query<Invoice>().Where(i => i.Period == period).Select(i => i.Id).FirstOrDefaultAsync(stop);
        var (numberRead, numberEvents) = await TimeFetchForWritingAsync<InvoiceNumberSequence>(host, numbers, stop);
        var (invoiceRead, _) = await TimeFetchForWritingAsync<Invoice>(host, invoiceId, stop);
        Console.WriteLine($"  issue reads:       FetchForWriting of the {year} number stream ({numberEvents} events) {numberRead.TotalMilliseconds:0.0} ms, " +
            $"of one invoice {invoiceRead.TotalMilliseconds:0.0} ms (median of 5; the number sequence is an inline snapshot)");
    }

    private static async Task<(TimeSpan Median, long Version)> TimeFetchForWritingAsync<T>(BenchHost host, Guid streamId, CancellationToken stop)
        where T : class
    {
        var times = new List<TimeSpan>();
        long version = 0;
        for (var i = 0; i < 5; i++)
        {
            await using var session = host.Store.LightweightSession();
            var began = Stopwatch.GetTimestamp();
            var stream = await session.Events.FetchForWriting<T>(streamId, stop);
            times.Add(Stopwatch.GetElapsedTime(began));
            version = stream.CurrentVersion ?? 0;
        }

        return (times.Order().ElementAt(times.Count / 2), version);
    }

    /// <summary>The leases, deterministic from <see cref="Seed"/>.</summary>
    private static IEnumerable<Lease> Leases(int tenants, int leases, int windowsPerLease, int monthMinutes, IReadOnlyList<string> skus)
    {
        var random = new Random(Seed);
        var tenantIds = Enumerable.Range(1, tenants).Select(i => $"bench-tenant-{i:D6}").ToArray();
        var id = new byte[16];
        for (var i = 0; i < leases; i++)
        {
            random.NextBytes(id);
            var pricing = random.Next(100) switch
            {
                < 60 => PricingModel.OnDemand,
                < 85 => PricingModel.Spot,
                _ => PricingModel.Reserved,
            };
            var gpus = random.Next(10) switch
            {
                < 4 => 1,
                < 7 => 2,
                < 9 => 4,
                _ => 8,
            };
            var sku = skus[random.Next(skus.Count)];
            var startMinute = random.Next(monthMinutes - windowsPerLease + 1);
            var firstSeconds = random.Next(1, 60_001) / 1000m;
            yield return new Lease(new Guid(id), tenantIds[i % tenants], sku, pricing, gpus, startMinute, firstSeconds);
        }
    }

    /// <summary>A lease's consecutive minute windows: the first from part-way into its minute, the rest whole; ids as the lease grain derives them.</summary>
    private static IEnumerable<MeteredWindow> Windows(Lease lease, DateTimeOffset periodStart, int windowsPerLease)
    {
        for (var w = 0; w < windowsPerLease; w++)
        {
            var start = periodStart.AddMinutes(lease.StartMinute + w);
            var seconds = w == 0 ? lease.FirstSeconds : 60m;
            yield return new MeteredWindow(DeterministicGuid.Create($"usage:{lease.Id:N}:{start:O}"), lease.Id, lease.TenantId, lease.Sku, lease.Pricing, start, lease.Gpus * seconds, Revision: 1);
        }
    }

    /// <summary>An hourly spot price per SKU from an hour before the month to its end, between floor and ceiling, as the spot job appends them.</summary>
    private static async Task<int> AddSpotPricesAsync(BenchHost host, PriceBookChanged book, IReadOnlyList<string> skus, DateTimeOffset from, DateTimeOffset to, CancellationToken stop)
    {
        var changes = 0;
        for (var s = 0; s < skus.Count; s++)
        {
            var (sku, prices) = (skus[s], book.Skus[skus[s]]);
            var events = new List<object>();
            decimal? previous = null;
            for (var tick = from.AddHours(-1); tick < to; tick = tick.AddHours(1))
            {
                var phase = (tick - from).TotalHours / 24 * 2 * Math.PI + s;
                var price = Math.Round(prices.SpotFloor + (prices.SpotCeiling - prices.SpotFloor) * (decimal)(0.5 + 0.4 * Math.Sin(phase)), 4, MidpointRounding.AwayFromZero);
                events.Add(new SpotTicked(sku, tick, 0, 0, 1m, price));
                if (price != previous)
                {
                    events.Add(new SpotPriceChanged(sku, price, previous, book.Currency, tick));
                    changes++;
                }

                previous = price;
            }

            await using var session = host.Store.LightweightSession();
            session.Events.Append(SpotMarket.StreamFor(sku), events);
            await session.SaveChangesAsync(stop);
        }

        return changes;
    }

    private static async Task<int> AddCommitmentsAsync(
        BenchHost host, IReadOnlyDictionary<(string TenantId, string Sku), int> reservedGpus, DateTimeOffset periodStart, DateTimeOffset madeAt, CancellationToken stop)
    {
        foreach (var batch in reservedGpus.Chunk(1000))
        {
            await using var session = host.Store.LightweightSession();
            foreach (var ((tenantId, sku), gpus) in batch)
            {
                var made = new CommitmentMade(DeterministicGuid.Create($"bench-commitment:{tenantId}:{sku}"), tenantId, sku, Math.Max(1, gpus / 2), periodStart, 1, madeAt);
                session.Events.StartStream<Commitment>(made.CommitmentId, made);
            }

            await session.SaveChangesAsync(stop);
        }

        return reservedGpus.Count;
    }

    /// <summary>Fresh planner statistics for the windows' table, as autovacuum would have them for a month-old table.</summary>
    private static async Task AnalyzeAsync(BenchHost host, CancellationToken stop)
    {
        var table = host.Store.Options.FindOrResolveDocumentType(typeof(MeteredWindow)).TableName.QualifiedName;
        await using var connection = new NpgsqlConnection(BenchHost.PostgresConnectionString);
        await connection.OpenAsync(stop);
        await using var analyze = new NpgsqlCommand($"analyze {table}", connection);
        await analyze.ExecuteNonQueryAsync(stop);
    }

    /// <summary>The machine's 1-minute load average (Linux), to tell a busy machine's figures apart.</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "n/a";
        }
    }

    /// <summary>Resets the process's peak resident set size (Linux: <c>/proc/self/clear_refs</c>), so the next peak read is the close's.</summary>
    private static bool ResetPeakWorkingSet()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private sealed record Lease(Guid Id, string TenantId, string Sku, PricingModel Pricing, int Gpus, int StartMinute, decimal FirstSeconds);

    private sealed record Snapshot(long WorkingSet, long Heap, long Allocated, int Gen2, TimeSpan Cpu);

    /// <summary>What was generated: counts and sums to check the close against, and what reserved usage needs committing.</summary>
    private sealed class Generated
    {
        private readonly Dictionary<(string TenantId, string Sku), int> reservedGpus = [];

        public long Windows { get; private set; }

        public decimal GpuSeconds { get; private set; }

        public Dictionary<PricingModel, long> ByPricing { get; } = Enum.GetValues<PricingModel>().ToDictionary(p => p, _ => 0L);

        public IReadOnlyDictionary<(string TenantId, string Sku), int> ReservedGpus => reservedGpus;

        public void Add(Lease lease)
        {
            if (lease.Pricing == PricingModel.Reserved)
            {
                var key = (lease.TenantId, lease.Sku);
                reservedGpus[key] = Math.Max(reservedGpus.GetValueOrDefault(key), lease.Gpus);
            }
        }

        public void Add(MeteredWindow window)
        {
            Windows++;
            GpuSeconds += window.GpuSeconds;
            ByPricing[window.Pricing]++;
        }
    }

    /// <summary>
    /// Watches the close from outside, every <see cref="PollEvery"/>: the period's invoices (drafted,
    /// issued) and this process's memory and CPU, to tell the job's phases apart without touching it.
    /// </summary>
    private sealed class CloseMonitor(BenchHost host, string period, int expected, long began)
    {
        private readonly List<Sample> samples = [];

        public long MaxWorkingSet { get; private set; }

        public long MaxHeap { get; private set; }

        public async Task RunAsync(CancellationToken stop)
        {
            using var process = Process.GetCurrentProcess();
            var printed = TimeSpan.Zero;
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    process.Refresh();
                    MaxWorkingSet = Math.Max(MaxWorkingSet, process.WorkingSet64);
                    MaxHeap = Math.Max(MaxHeap, GC.GetTotalMemory(false));
                    var polled = Stopwatch.GetTimestamp();
                    await using (var query = host.Store.QuerySession())
                    {
                        var invoices = await query.Query<Invoice>().CountAsync(i => i.Period == period, stop);
                        var issued = await query.Query<Invoice>().CountAsync(i => i.Period == period && i.Status == InvoiceStatus.Issued, stop);
                        var at = Stopwatch.GetElapsedTime(began);
                        samples.Add(new Sample(at, invoices, issued, process.TotalProcessorTime));
                        if (at - printed >= ProgressEvery)
                        {
                            printed = at;
                            Console.WriteLine($"  closing:           {invoices} of {expected} invoices drafted, {issued} issued after {at.TotalSeconds:0.0} s; " +
                                $"working set {Mib(process.WorkingSet64)}, managed heap {Mib(GC.GetTotalMemory(false))}");
                        }
                    }

                    // Polling stays a small load on the machine (2 % of one core), however large the month.
                    var took = Stopwatch.GetElapsedTime(polled);
                    await Task.Delay(took * 50 > PollEvery ? took * 50 : PollEvery, stop);
                }
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
            }
        }

        /// <summary>The job's phases as seen from the invoices it writes (to within a poll).</summary>
        /// <summary>Where the last sample saw the close.</summary>
        public string Last => samples.Count == 0 ? "nothing seen yet" :
            $"{samples[^1].Invoices} of {expected} invoices drafted, {samples[^1].Issued} issued at {samples[^1].At.TotalSeconds:0.0} s";

        public void PrintPhases(TimeSpan closed, bool finished, TimeSpan cpuBefore, TimeSpan cpuAfter)
        {
            var start = new Sample(TimeSpan.Zero, 0, 0, cpuBefore);
            Sample? end = finished ? new Sample(closed, expected, expected, cpuAfter) : null;
            var firstDraft = First(closed, s => s.Invoices > 0) ?? end;
            var allDrafted = First(closed, s => s.Invoices >= expected) ?? end;
            var allIssued = First(closed, s => s.Issued >= expected) ?? end;
            Console.WriteLine($"phases:              {samples.Count} polls (seen from the invoices, polled every {PollEvery.TotalMilliseconds:0} ms or 50 x the poll's query time, whichever is longer; CPU is this process's, in cores)");
            Phase("find + rate", start, firstDraft, "until the first draft: finds the changed tenants, rates the first 500 from their hours");
            Phase("write drafts", firstDraft, allDrafted, $"{expected} drafts, a transaction each, 4 at once, rating 500 tenants per read");
            Phase("issue", allDrafted, allIssued, $"{expected} invoices, 50 per transaction");
            Phase("after issuing", allIssued, end, "looks for late usage of the closed month: none changed, so nothing is rated");

            // Issue rate per tenth of the invoices: a falling rate means each issue costs more than the last.
            var marks = Enumerable.Range(0, 11).Select(t => First(closed, s => s.Issued >= Math.Max(1, expected * t / 10))).ToList();
            var rates = marks.Zip(marks.Skip(1), (from, to) => from is not null && to is not null && to.At > from.At
                ? ((to.Issued - from.Issued) / (to.At - from.At).TotalSeconds).ToString("0", CultureInfo.InvariantCulture)
                : "-");
            Console.WriteLine($"  issue rate:        {string.Join(", ", rates)} invoices/s, per tenth of the invoices");
        }

        private void Phase(string name, Sample? from, Sample? to, string what)
        {
            if (from is null)
            {
                Console.WriteLine($"  {name + ":",-19}  not reached  ({what})");
                return;
            }

            var unfinished = to is null;
            to ??= samples.Count > 0 ? samples[^1] : from;
            var wall = to.At - from.At;
            var cores = wall > TimeSpan.Zero ? (to.Cpu - from.Cpu) / wall : 0;
            Console.WriteLine($"  {name + ":",-19}{wall.TotalSeconds,8:0.00} s, CPU {cores:0.00}{(unfinished ? " UNFINISHED (so far)" : "")}  ({what})");
        }

        /// <summary>The first sample taken while the job ran that shows it got there.</summary>
        private Sample? First(TimeSpan closed, Func<Sample, bool> reached) => samples.FirstOrDefault(s => s.At <= closed && reached(s));

        private sealed record Sample(TimeSpan At, int Invoices, int Issued, TimeSpan Cpu);
    }

    /// <summary>
    /// The job's database commands, from Npgsql's tracing: only those started under the close's own
    /// activity (the job's async flow), not the monitor's, Hangfire's or the projection daemon's.
    /// Grouped by what their SQL reads or writes; a command's time runs from sending it to its last
    /// row read, so a read includes deserializing its rows. Commits are not commands: they are in the
    /// untraced rest, with the rest of this process's work.
    /// </summary>
    private sealed class DbTrace : IDisposable
    {
        private const int Shown = 8;
        private const string SourceName = "Billing.Benchmarks.MonthClose";

        private static readonly ActivitySource Source = new(SourceName);

        private readonly Dictionary<string, (int Count, TimeSpan Time)> commands = [];
        private readonly Lock recording = new();
        private readonly ActivityListener listener;
        private readonly string schema;
        private ActivityTraceId? traceId;

        public DbTrace(string schema)
        {
            this.schema = schema;
            listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name is "Npgsql" or SourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> creating) =>
                    creating.Source.Name == SourceName || (traceId is { } id && creating.Parent.TraceId == id)
                        ? ActivitySamplingResult.AllDataAndRecorded
                        : ActivitySamplingResult.None,
                ActivityStopped = Record,
            };
            ActivitySource.AddActivityListener(listener);
        }

        /// <summary>The close's activity: commands in its async flow are its children.</summary>
        public Activity? Start()
        {
            var root = Source.StartActivity("month-close");
            traceId = root?.TraceId;
            return root;
        }

        public void Print(TimeSpan closed)
        {
            List<KeyValuePair<string, (int Count, TimeSpan Time)>> all;
            lock (recording)
            {
                all = [.. commands.OrderByDescending(c => c.Value.Time)];
            }

            var total = all.Aggregate(TimeSpan.Zero, (sum, c) => sum + c.Value.Time);
            var count = all.Sum(c => c.Value.Count);
            Console.WriteLine($"database commands:   {count} by the job, {total.TotalSeconds:0.00} s in them " +
                $"({(closed > TimeSpan.Zero ? total / closed : 0):P0} of the close; drafts run 4 at once, so their commands overlap)");
            foreach (var (sql, (n, time)) in all.Take(Shown))
            {
                Console.WriteLine($"  {n,7} x {time.TotalSeconds,7:0.00} s ({time.TotalMilliseconds / n,6:0.00} ms each)  {sql}");
            }
        }

        public void Dispose() => listener.Dispose();

        /// <summary>A command's statements without their select lists, arguments and conditions: what it reads or writes.</summary>
        private static string Shape(string sql)
        {
            var statements = sql.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(statement => string.Join(' ', statement.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)))
                .Select(statement => Regex.Replace(statement, @"^select (\w+)\(.*$", "select $1(..)"))
                .Select(statement => Regex.Replace(statement, @"^insert into (\S+) .*$", "insert into $1"))
                .Select(statement => Regex.Replace(statement, @"^select .*? from (\S+)( as \w+)?( where (.*))?$", m =>
                    $"select from {m.Groups[1].Value}{(m.Groups[4].Success ? " where " + Cut(m.Groups[4].Value, 40) : "")}", RegexOptions.IgnoreCase))
                .Select(statement => Cut(statement, 90));
            return string.Join("; ", statements);
        }

        private static string Cut(string text, int length) => text.Length > length ? text[..length] + ".." : text;

        private void Record(Activity activity)
        {
            if (activity.Source.Name == SourceName)
            {
                return;
            }

            var sql = activity.GetTagItem("db.query.text") as string ?? activity.GetTagItem("db.statement") as string ?? activity.DisplayName;
            var key = Shape(sql.Replace(schema + ".", "", StringComparison.Ordinal));
            lock (recording)
            {
                var (n, time) = commands.GetValueOrDefault(key);
                commands[key] = (n + 1, time + activity.Duration);
            }
        }
    }
}
