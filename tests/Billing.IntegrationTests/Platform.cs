using Billing.ServiceDefaults.Pricing;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Billing.IntegrationTests;

/// <summary>
/// The whole platform in one host, over the real PostgreSQL and RabbitMQ that infra/up.sh starts,
/// one per test class (<c>IClassFixture&lt;Platform&gt;</c>): its own schema, RabbitMQ virtual host,
/// price book and fake clock, so no class sees another's tenants, SKUs, markets, periods or jobs.
/// Recurring jobs never run on their own; a test runs a job when it wants one. A restart keeps the
/// database and the broker but loses everything in memory. A fixture that needs settings of its own
/// derives from it and overrides <see cref="Configure"/>.
/// </summary>
public class Platform : IAsyncLifetime
{
    public const string OpsKey = "test-ops-key";

    /// <summary>A SKU with a spot floor and ceiling of its own; its price book entry comes from the test settings.</summary>
    public const string SpotSku = "TEST-SPOT";

    /// <summary>
    /// Where every platform's clock starts: 09:00 UTC on the 2nd of next month, the same for every
    /// class of a run, a whole month from any month's end, and never behind the wall clock.
    /// </summary>
    public static readonly DateTimeOffset Start = PlatformClient.NextMonth(DateTimeOffset.UtcNow).AddDays(1).AddHours(9);

    protected static readonly string Postgres =
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? "Host=127.0.0.1;Port=55432;Database=billing;Username=billing;Password=billing";

    private static readonly string RabbitManagement =
        $"http://127.0.0.1:{Environment.GetEnvironmentVariable("BILLING_RABBIT_MGMT_PORT") ?? "55673"}";

    private static readonly string RabbitPort = Environment.GetEnvironmentVariable("BILLING_RABBIT_PORT") ?? "55672";

    private readonly string schema = $"it_{Guid.NewGuid():N}"[..19];
    private readonly string vhost = $"it-{Guid.NewGuid():N}"[..19];
    private readonly HttpClient rabbit = new() { BaseAddress = new Uri(RabbitManagement) };
    private WebApplicationFactory<Program>? factory;
    private HttpMessageInvoker? server;

    public FakeTimeProvider Time { get; } = new(Start);

    public IServiceProvider Services => factory!.Services;

    /// <summary>This platform's RabbitMQ virtual host: a test may take it away to cut this host, and only it, off the broker.</summary>
    public string VirtualHost => vhost;

    public virtual async Task InitializeAsync()
    {
        rabbit.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        (await rabbit.PutAsync($"/api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        (await rabbit.PutAsJsonAsync($"/api/permissions/{vhost}/guest", new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        await StartAsync();
    }

    public virtual async Task DisposeAsync()
    {
        await StopAsync();
        await rabbit.DeleteAsync($"/api/vhosts/{vhost}");
        await using var connection = new NpgsqlConnection(Postgres);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop schema if exists {schema} cascade; drop schema if exists {schema}_hangfire cascade", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Stops the host and starts a new one on the same database and broker.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    /// <summary>A client that survives restarts: each request goes to the host running at the time.</summary>
    public HttpClient Client(string? key = null)
    {
        var client = new HttpClient(Handler()) { BaseAddress = new Uri("http://localhost/") };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    /// <summary>A handler that sends each request to the host running at the time (for a client of one's own, such as the node agent's).</summary>
    public HttpMessageHandler Handler() => new CurrentHostHandler(this);

    /// <summary>True once the broker holds no message of this run: everything published was consumed.</summary>
    public async Task<bool> BrokerIdleAsync()
    {
        // Queue totals without the statistics database: its collector can crash on a queue deleted with its vhost
        // (seen here: every /api/queues answered 500 from then on), while these counts come from the queues themselves.
        using var response = await rabbit.GetAsync($"/api/queues/{vhost}?disable_stats=true&enable_queue_totals=true");
        var queues = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<List<QueueInfo>>();
        return queues!.All(q => q.Messages == 0);
    }

    /// <summary>This platform's queues with their arguments and message counts (as <see cref="BrokerIdleAsync"/> reads them).</summary>
    public async Task<IReadOnlyList<JsonElement>> QueuesAsync()
    {
        using var response = await rabbit.GetAsync($"/api/queues/{vhost}?disable_stats=true&enable_queue_totals=true");
        return (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<List<JsonElement>>())!;
    }

    private async Task StartAsync()
    {
        var (siloPort, gatewayPort) = (FreePort(), FreePort());
        factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseSetting("Billing:OpsKey", OpsKey);
            host.UseSetting("Billing:Schema", schema);
            host.UseSetting("Billing:Jobs:Schedule", "false");
            // Traces of grain calls, off by default without an exporter, for the trace test's own listener.
            host.UseSetting("Billing:Tracing:GrainCalls", "true");
            host.UseSetting("Billing:Spot:HalfLife", "00:01:00");
            host.UseSetting($"Billing:PriceBook:Skus:{SpotSku}:OnDemand", "2.00");
            host.UseSetting($"Billing:PriceBook:Skus:{SpotSku}:Reserved", "1.50");
            host.UseSetting($"Billing:PriceBook:Skus:{SpotSku}:SpotFloor", "0.50");
            host.UseSetting($"Billing:PriceBook:Skus:{SpotSku}:SpotCeiling", "1.90");
            host.UseSetting("ConnectionStrings:Postgres", Postgres);
            host.UseSetting("ConnectionStrings:RabbitMq", $"amqp://guest:guest@127.0.0.1:{RabbitPort}/{vhost}");
            host.UseSetting("Silo:SiloPort", siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
            host.UseSetting("Silo:GatewayPort", gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
            host.ConfigureTestServices(services => services.AddKeyedSingleton<TimeProvider>(Billing.ServiceDefaults.BillingClock.Key, Time));
            Configure(host);
        });
        server = new HttpMessageInvoker(factory.Server.CreateHandler());
        // Ready, not just live: MassTransit starts the bus in the background, and a message published
        // before a consumer's queue is bound in this fresh virtual host would go nowhere.
        using var client = Client();
        await PlatformClient.EventuallyAsync(async () => (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode, true);
    }

    /// <summary>Settings of a derived fixture's own, applied after the platform's.</summary>
    protected virtual void Configure(IWebHostBuilder host)
    {
    }

    private async Task StopAsync()
    {
        if (factory is not null)
        {
            server?.Dispose();
            try
            {
                await factory.DisposeAsync();
            }
            catch (ObjectDisposedException stopping) when (stopping.StackTrace?.Contains("JasperFx.Events.Daemon", StringComparison.Ordinal) == true)
            {
                // Marten's projection coordinator, stopped while its daemon is mid-page, now and then cancels a token
                // source it has already disposed (seen once in a CI run); the other services have stopped by then.
            }

            factory = null;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record QueueInfo(string Name, int Messages);

    private sealed class CurrentHostHandler(Platform platform) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            platform.server!.SendAsync(request, cancellationToken);
    }
}
