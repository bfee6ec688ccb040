using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;
using Billing.Fleet.Placement;
using Billing.ServiceDefaults.Jobs;
using Hangfire;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Billing.Benchmarks;

/// <summary>
/// The whole platform in this process, as the integration tests host it: over the PostgreSQL and
/// RabbitMQ that infra/up.sh starts, in a fresh schema and a fresh RabbitMQ virtual host (both
/// removed on dispose), on free silo ports, with the billing clock replaced by a fake one.
/// </summary>
public sealed class BenchHost : IAsyncDisposable
{
    public const string OpsKey = "bench-ops-key";

    private static readonly string Postgres =
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? "Host=127.0.0.1;Port=55432;Database=billing;Username=billing;Password=billing";

    /// <summary>The PostgreSQL the host runs on (the schema is <see cref="Schema"/>).</summary>
    public static string PostgresConnectionString => Postgres;

    private static readonly string RabbitManagement =
        $"http://127.0.0.1:{Environment.GetEnvironmentVariable("BILLING_RABBIT_MGMT_PORT") ?? "55673"}";

    private static readonly string RabbitPort = Environment.GetEnvironmentVariable("BILLING_RABBIT_PORT") ?? "55672";

    private readonly string vhost = $"bench-{Guid.NewGuid():N}"[..18];
    private readonly HttpClient rabbit = new() { BaseAddress = new Uri(RabbitManagement) };
    private WebApplicationFactory<Program>? factory;

    private BenchHost(DateTimeOffset clockStart) => Clock = new FakeTimeProvider(clockStart);

    /// <summary>The billing clock the grains read; nothing else in the host runs on it.</summary>
    public FakeTimeProvider Clock { get; }

    public string Schema { get; } = $"bench_{Guid.NewGuid():N}"[..18];

    /// <summary>The RabbitMQ virtual host the host runs on, for a second process to join it.</summary>
    public string RabbitMqConnectionString => $"amqp://guest:guest@127.0.0.1:{RabbitPort}/{vhost}";

    /// <summary>Warnings and errors the host logged.</summary>
    public HostLog Log { get; } = new();

    public IGrainFactory Grains => factory!.Services.GetRequiredService<IGrainFactory>();

    public IDocumentStore Store => factory!.Services.GetRequiredService<IDocumentStore>();

    /// <summary>The host's services, e.g. to resolve a job and run it directly.</summary>
    public IServiceProvider Services => factory!.Services;

    /// <summary>
    /// Starts the host; <paramref name="overKestrel"/> serves it on a loopback port (real sockets) instead of in memory;
    /// <paramref name="settings"/> are configuration settings added to (or replacing) the defaults.
    /// </summary>
    public static async Task<BenchHost> StartAsync(DateTimeOffset clockStart, bool overKestrel = false, IReadOnlyDictionary<string, string>? settings = null)
    {
        var host = new BenchHost(clockStart);
        try
        {
            await host.InitializeAsync(overKestrel, settings ?? new Dictionary<string, string>());
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Registers nodes of one SKU as the API does (node grain, then its SKU pool) and posts one
    /// heartbeat each at the billing clock's time, reporting every GPU healthy, so they are reachable.
    /// <paramref name="place"/> gives node i its fabric and rack (default: the region, no rack).
    /// </summary>
    public async Task<IReadOnlyList<string>> AddNodesAsync(
        string sku, int count, int gpus, int concurrency, CancellationToken stop, Func<int, (string Fabric, string? Rack)>? place = null)
    {
        var nodeIds = Enumerable.Range(0, count).Select(i => $"bench-node-{i:D5}").ToList();
        var all = NodeHealth.AllGpus(gpus);
        var observedAt = MeteringRules.ToMillisecond(Clock.GetUtcNow());
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = stop }, async (i, _) =>
        {
            var nodeId = nodeIds[i];
            var node = Grains.GetGrain<INodeGrain>(nodeId);
            var (fabric, rack) = place?.Invoke(i) ?? ("bench-1", null);
            var view = await node.Register(new NodeSpec(sku, gpus, "bench-1", fabric, rack));
            await Grains.GetGrain<ISkuPoolGrain>(sku).AddNode(view!);
            if (await node.RecordHeartbeat(new HeartbeatSample(observedAt, all), all) is var admission and not HeartbeatAdmission.Accepted)
            {
                throw new InvalidOperationException($"The first heartbeat of {nodeId} was not accepted: {admission}.");
            }
        });
        return nodeIds;
    }

    /// <summary>A client of the in-process API that sends <paramref name="key"/> as its bearer key.</summary>
    public HttpClient Client(string key)
    {
        var client = factory!.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>
    /// Takes every module's recurring job off Hangfire's schedule, so a benchmark that runs a job
    /// itself runs it alone (Hangfire fires them on real time, not on the billing clock).
    /// </summary>
    public void RemoveRecurringJobs()
    {
        var recurring = Services.GetRequiredService<IRecurringJobManager>();
        foreach (var job in Services.GetServices<BillingJobSchedule>())
        {
            recurring.RemoveIfExists(job.Id);
        }
    }

    /// <summary>Waits until Hangfire has no job enqueued or processing (a run fired before <see cref="RemoveRecurringJobs"/>).</summary>
    public async Task<bool> WaitForJobsIdleAsync(TimeSpan timeout, CancellationToken stop)
    {
        var monitoring = Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        var waiting = System.Diagnostics.Stopwatch.StartNew();
        while (monitoring.ProcessingCount() > 0 || monitoring.Queues().Any(q => q.Length > 0))
        {
            if (waiting.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), stop);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (factory is not null)
        {
            await factory.DisposeAsync();
        }

        await rabbit.DeleteAsync(new Uri($"/api/vhosts/{vhost}", UriKind.Relative));
        rabbit.Dispose();
        Log.Dispose();
        await using var connection = new NpgsqlConnection(Postgres);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop schema if exists {Schema} cascade; drop schema if exists {Schema}_hangfire cascade", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Where the API answers: Kestrel's loopback address, or the in-memory server's.</summary>
    public Uri BaseAddress { get; private set; } = new("http://localhost");

    private async Task InitializeAsync(bool overKestrel, IReadOnlyDictionary<string, string> settings)
    {
        rabbit.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        (await rabbit.PutAsync(new Uri($"/api/vhosts/{vhost}", UriKind.Relative), null)).EnsureSuccessStatusCode();
        (await rabbit.PutAsJsonAsync($"/api/permissions/{vhost}/guest", new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();

        // WebApplicationFactory finds the host's content root through the manifest the build puts next
        // to this program, looked up in the working directory (the output folder under `dotnet test`).
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        var (siloPort, gatewayPort) = (FreePort(), FreePort());
        factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            // Measured as deployed: the test factory's Development environment adds the developer
            // exception page and service-scope validation to every request. The console's assets are
            // served from the build's manifest, as Development does (a deployment publishes them).
            host.UseEnvironment(Environments.Production);
            host.UseStaticWebAssets();
            host.UseSetting("Logging:LogLevel:Default", "Warning");
            host.UseSetting("Billing:OpsKey", OpsKey);
            host.UseSetting("Billing:Schema", Schema);
            host.UseSetting("ConnectionStrings:Postgres", Postgres);
            host.UseSetting("ConnectionStrings:RabbitMq", RabbitMqConnectionString);
            host.UseSetting("Silo:SiloPort", siloPort.ToString(CultureInfo.InvariantCulture));
            host.UseSetting("Silo:GatewayPort", gatewayPort.ToString(CultureInfo.InvariantCulture));
            foreach (var (key, value) in settings)
            {
                host.UseSetting(key, value);
            }

            host.ConfigureTestServices(services =>
            {
                services.AddKeyedSingleton<TimeProvider>(Billing.ServiceDefaults.BillingClock.Key, Clock);
                // The host logs only to HostLog: a benchmark's console is for its figures.
                services.RemoveAll<ILoggerProvider>();
                services.AddSingleton<ILoggerProvider>(Log);
            });
        });
        if (overKestrel)
        {
            var port = FreePort();
            factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
            factory.StartServer();
            factory.ClientOptions.BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        }

        using var client = factory.CreateClient();
        BaseAddress = client.BaseAddress!;
        (await client.GetAsync(new Uri("/health", UriKind.Relative))).EnsureSuccessStatusCode();
    }

    /// <summary>A loopback port free at the time of asking.</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// The host's log: warnings and errors, in full, to a file; counted, and grouped by what went wrong
/// (category and exception, or the message's first line), to print with the figures.
/// </summary>
public sealed class HostLog : ILoggerProvider
{
    private const int Shown = 8;

    private readonly ConcurrentDictionary<string, int> kinds = new();
    private readonly Lock writing = new();
    private readonly StreamWriter file;
    private int warnings;
    private int errors;
    private bool closed;

    public HostLog()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"billing-bench-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
        file = new StreamWriter(Path) { AutoFlush = true };
    }

    public string Path { get; }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
        lock (writing)
        {
            closed = true;
            file.Dispose();
        }
    }

    public void Print()
    {
        Console.WriteLine($"host log:            {warnings} warnings, {errors} errors (in full: {Path})");
        foreach (var (kind, count) in kinds.OrderByDescending(k => k.Value).Take(Shown))
        {
            Console.WriteLine($"  {count,7} x {kind}");
        }
    }

    private void Record(LogLevel level, string category, string message, Exception? exception)
    {
        Interlocked.Increment(ref level >= LogLevel.Error ? ref errors : ref warnings);
        var what = exception is null ? FirstLine(message) : $"{exception.GetType().Name}: {FirstLine(exception.Message)}";
        var kind = $"{level} {category}: {(what.Length > 200 ? what[..200] + "..." : what)}";
        if (kinds.Count < 100 || kinds.ContainsKey(kind))
        {
            kinds.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        lock (writing)
        {
            if (closed)
            {
                return;
            }

            file.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {level} {category}: {message}{(exception is null ? "" : Environment.NewLine + exception)}");
        }
    }

    private static string FirstLine(string text) => text.Trim().Split('\n', 2)[0].Trim();

    private sealed class Logger(HostLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log.Record(logLevel, category, formatter(state, exception), exception);
            }
        }
    }
}
