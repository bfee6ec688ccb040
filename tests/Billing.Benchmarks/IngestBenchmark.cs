using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Billing.Ledger.Meters;
using Marten;
using Npgsql;

namespace Billing.Benchmarks;

/// <summary>
/// Token events through <c>POST /v1/events</c> (batch mode, 1,000 a post) from concurrent clients, a
/// share of them copies of events posted before; then the rollup into minute aggregates and hourly
/// <see cref="MeterHour"/>s, and the usage API. The request bodies are made before the clock starts:
/// the figure is the platform's, not the client's JSON writer. The host runs in this process
/// (WebApplicationFactory's in-memory server: no sockets), over the local PostgreSQL.
/// </summary>
public static class IngestBenchmark
{
    public static readonly string[] OptionNames = ["events", "clients", "duplicates", "tenants"];

    private const int Batch = 1000;
    private const string Meter = "llm-tokens";
    private static readonly string[] Models = ["small-chat", "big-chat", "embed-small", "code-large"];
    private static readonly TimeSpan RollupTimeout = TimeSpan.FromMinutes(5);

    public static async Task<bool> RunAsync(Options options, CancellationToken stop)
    {
        var (posted, clients, duplicatePercent, tenantCount) = (options.Get("events", 200_000), options.Get("clients", 1), options.Get("duplicates", 10), options.Get("tenants", 10));
        var batches = Math.Max(1, posted / Batch);
        Console.WriteLine($"settings:            {batches} posts of {Batch} events ({batches * Batch} events), {duplicatePercent} % of each post copies of earlier events, " +
            $"{clients} concurrent client(s), {tenantCount} tenants");

        var now = DateTimeOffset.UtcNow;
        await using var host = await BenchHost.StartAsync(now);
        Console.WriteLine($"host:                in-process, schema {host.Schema}");
        var ops = host.Client(BenchHost.OpsKey);
        var tenants = new List<string>();
        for (var t = 0; t < tenantCount; t++)
        {
            var created = await (await ops.PostAsJsonAsync("/v1/tenants", new { name = $"bench-tenant-{t}" }, stop)).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(stop);
            tenants.Add(created.GetProperty("tenantId").GetString()!);
        }

        var issued = await (await ops.PostAsJsonAsync("/v1/keys", new { role = "ingest", name = "bench gateway" }, stop)).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(stop);
        var gateway = host.Client(issued.GetProperty("key").GetString()!);
        var (bodies, uniqueEvents, uniqueTokens) = Bodies(batches, duplicatePercent, tenants, now);
        Console.WriteLine($"expected:            {uniqueEvents} distinct events ({batches * Batch - uniqueEvents} copies), {uniqueTokens} tokens");

        // The machine is shared and its speed moves: the ceiling is measured in this run, on the same rows, half before and half after.
        var ceilingBatches = Math.Min(batches, 50) / 2 + 1;
        var copyBefore = await CopyCeilingAsync(host.Schema, ceilingBatches, tenants, now, stop);
        Console.WriteLine($"load average:        {LoadAverage()}");

        var latencies = new long[batches];
        var (accepted, duplicates, rejected, next) = (0L, 0L, 0L, -1);
        var began = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < batches;)
            {
                var start = Stopwatch.GetTimestamp();
                using var content = new ByteArrayContent(bodies[i]) { Headers = { ContentType = new MediaTypeHeaderValue("application/cloudevents-batch+json") } };
                using var response = await gateway.PostAsync(new Uri("/v1/events", UriKind.Relative), content, stop);
                var answer = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(stop);
                latencies[i] = Stopwatch.GetTimestamp() - start;
                Interlocked.Add(ref accepted, answer.GetProperty("accepted").GetArrayLength());
                Interlocked.Add(ref duplicates, answer.GetProperty("duplicates").GetArrayLength());
                Interlocked.Add(ref rejected, answer.GetProperty("rejected").GetArrayLength());
            }
        }, stop)));
        var ingested = Stopwatch.GetElapsedTime(began);
        var rate = batches * Batch / ingested.TotalSeconds;
        var copyCeiling = (copyBefore + await CopyCeilingAsync(host.Schema, ceilingBatches, tenants, now, stop)) / 2;
        Console.WriteLine($"COPY ceiling:        {copyCeiling:0} rows/s (binary COPY of the same rows into a table without indexes, {Batch} a transaction, " +
            $"one connection; the mean of runs before and after the posts)");
        Console.WriteLine($"answers:             {accepted} accepted, {duplicates} duplicates, {rejected} rejected, in {ingested.TotalSeconds:0.00} s");
        Console.WriteLine($"ingest rate:         {rate:0} events/s posted and answered durably ({accepted / ingested.TotalSeconds:0} new events/s stored); " +
            $"{rate / copyCeiling:0.00} x the COPY ceiling");
        Console.WriteLine($"post latency:        {Latency.Summary(latencies)} (a post of {Batch})");

        var (rolledAt, unrolled) = await WaitForRollupAsync(host, began, stop);
        Console.WriteLine(unrolled == 0
            ? $"rolled up:           every event {rolledAt.TotalSeconds:0.00} s after the first post ({(rolledAt - ingested).TotalSeconds:0.00} s after the last answer): " +
              $"{uniqueEvents / rolledAt.TotalSeconds:0} events/s rolled up into minute aggregates and hourly aggregates"
            : $"TIMEOUT:             {unrolled} events not rolled up after {RollupTimeout.TotalMinutes:0} minutes");

        var usageAt = await WaitForUsageApiAsync(ops, tenants, uniqueTokens, now, began, stop);
        Console.WriteLine(usageAt is { } shown
            ? $"usage API:           shows the last event {shown.TotalSeconds:0.00} s after the first post ({(shown - ingested).TotalSeconds:0.00} s after the last answer)"
            : "usage API:           never showed every token");

        await using var session = host.Store.QuerySession();
        var hours = await session.Query<MeterHour>().ToListAsync(stop);
        var (events, tokens) = (hours.Sum(h => h.Events), hours.Sum(h => h.Quantity));
        var exact = accepted == uniqueEvents && duplicates == batches * Batch - uniqueEvents && rejected == 0 && events == uniqueEvents && tokens == uniqueTokens;
        Console.WriteLine($"counted:             {events} events, {tokens} tokens in the hourly aggregates -> {(exact ? "OK, zero double-counted, zero lost" : "MISMATCH")}");
        Console.WriteLine($"load average:        {LoadAverage()}");
        host.Log.Print();
        return exact && unrolled == 0 && usageAt is not null;
    }

    /// <summary>The request bodies, and the distinct events and tokens they hold.</summary>
    private static (byte[][] Bodies, long Unique, decimal Tokens) Bodies(int batches, int duplicatePercent, List<string> tenants, DateTimeOffset now)
    {
        var random = new Random(42);
        var sent = new List<(int Batch, int Index)>();
        var bodies = new byte[batches][];
        var copies = Batch * Math.Clamp(duplicatePercent, 0, 100) / 100;
        decimal tokens = 0;
        for (var b = 0; b < batches; b++)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartArray();
                for (var i = 0; i < Batch; i++)
                {
                    // Copies come from earlier posts (the first post copies its own events).
                    var copy = i >= Batch - copies && sent.Count > 0;
                    var (eb, ei) = copy ? sent[random.Next(sent.Count)] : (b, i);
                    if (!copy)
                    {
                        sent.Add((b, i));
                        tokens += Tokens(b, i);
                    }

                    Write(json, eb, ei, tenants, now);
                }

                json.WriteEndArray();
            }

            bodies[b] = buffer.ToArray();
        }

        return (bodies, sent.Count, tokens);
    }

    private static int Tokens(int batch, int index) => 1 + (batch * 7919 + index * 104729) % 5000;

    /// <summary>The event (batch, index): always the same fields, so a copy is the same event.</summary>
    private static void Write(Utf8JsonWriter json, int batch, int index, List<string> tenants, DateTimeOffset now)
    {
        json.WriteStartObject();
        json.WriteString("specversion", "1.0");
        json.WriteString("type", "com.billing.llm.tokens");
        json.WriteString("source", "//bench/gateway");
        json.WriteString("id", $"{batch}-{index}");
        json.WriteString("subject", tenants[(batch + index) % tenants.Count]);
        json.WriteString("time", now.AddSeconds(-((batch * 31 + index) % 3000)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        json.WriteString("datacontenttype", "application/json");
        json.WriteStartObject("data");
        json.WriteString("model", Models[index % Models.Length]);
        json.WriteString("tokenType", index % 2 == 0 ? "input" : "output");
        json.WriteNumber("tokens", Tokens(batch, index));
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Rows/s of a binary COPY of the ingest log's columns into a scratch table, one transaction per batch.</summary>
    private static async Task<double> CopyCeilingAsync(string schema, int batches, List<string> tenants, DateTimeOffset now, CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(BenchHost.PostgresConnectionString);
        await connection.OpenAsync(stop);
        await using (var create = new NpgsqlCommand(
            $"create table if not exists {schema}.copy_ceiling (source text, event_id text, tenant_id text, meter text, group_key text, value numeric, event_time timestamptz)", connection))
        {
            await create.ExecuteNonQueryAsync(stop);
        }

        var began = Stopwatch.GetTimestamp();
        for (var b = 0; b < batches; b++)
        {
            await using var copy = await connection.BeginBinaryImportAsync(
                $"copy {schema}.copy_ceiling (source, event_id, tenant_id, meter, group_key, value, event_time) from stdin (format binary)", stop);
            for (var i = 0; i < Batch; i++)
            {
                await copy.StartRowAsync(stop);
                await copy.WriteAsync("//bench/gateway", stop);
                await copy.WriteAsync($"ceiling-{b}-{i}", stop);
                await copy.WriteAsync(tenants[(b + i) % tenants.Count], stop);
                await copy.WriteAsync(Meter, stop);
                await copy.WriteAsync($$"""{"model":"{{Models[i % Models.Length]}}","tokenType":"{{(i % 2 == 0 ? "input" : "output")}}"}""", stop);
                await copy.WriteAsync((decimal)Tokens(b, i), stop);
                await copy.WriteAsync(now.UtcDateTime, NpgsqlTypes.NpgsqlDbType.TimestampTz, stop);
            }

            await copy.CompleteAsync(stop);
        }

        var rate = batches * Batch / Stopwatch.GetElapsedTime(began).TotalSeconds;
        await using var drop = new NpgsqlCommand($"truncate {schema}.copy_ceiling", connection);
        await drop.ExecuteNonQueryAsync(stop);
        return rate;
    }

    /// <summary>The 1, 5 and 15 minute load averages: the machine is shared, and the figures move with them.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static async Task<(TimeSpan At, long Unrolled)> WaitForRollupAsync(BenchHost host, long began, CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(BenchHost.PostgresConnectionString);
        await connection.OpenAsync(stop);
        var waiting = Stopwatch.StartNew();
        while (true)
        {
            await using var count = new NpgsqlCommand($"select count(*) from {host.Schema}.meter_events where seq > (select seq from {host.Schema}.meter_events_rolled)", connection);
            var unrolled = (long)(await count.ExecuteScalarAsync(stop))!;
            if (unrolled == 0 || waiting.Elapsed > RollupTimeout)
            {
                return (Stopwatch.GetElapsedTime(began), unrolled);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), stop);
        }
    }

    private static async Task<TimeSpan?> WaitForUsageApiAsync(HttpClient ops, List<string> tenants, decimal expected, DateTimeOffset now, long began, CancellationToken stop)
    {
        var hour = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);
        var range = $"from={hour.AddHours(-2).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}&to={hour.AddHours(1).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}";
        var waiting = Stopwatch.StartNew();
        while (waiting.Elapsed < RollupTimeout)
        {
            decimal total = 0;
            foreach (var tenant in tenants)
            {
                var report = await ops.GetFromJsonAsync<JsonElement>($"/v1/usage?meter={Meter}&tenantId={tenant}&{range}", stop);
                total += report.GetProperty("total").GetDecimal();
            }

            if (total == expected)
            {
                return Stopwatch.GetElapsedTime(began);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), stop);
        }

        return null;
    }
}
