using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Billing.Host;
using Billing.ServiceDefaults.Jobs;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Billing.IntegrationTests.Gateway;

/// <summary>What one module's host serves when it runs alone, as each compose container does.</summary>
public sealed record ModuleSurface(string Module, IReadOnlyList<ApiRoute> Routes, IReadOnlyList<string> JobIds);

/// <summary>
/// Starts each module's host alone (Billing:Services=&lt;module&gt;), one after another on one schema and one
/// RabbitMQ virtual host as the compose deployment does, and records the routes it maps and the jobs it runs.
/// </summary>
public sealed class ModuleHosts : IAsyncLifetime
{
    private static readonly string Postgres =
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? "Host=127.0.0.1;Port=55432;Database=billing;Username=billing;Password=billing";

    private static readonly string RabbitPort = Environment.GetEnvironmentVariable("BILLING_RABBIT_PORT") ?? "55672";

    private readonly string schema = $"gw_{Guid.NewGuid():N}"[..19];
    private readonly string vhost = $"gw-{Guid.NewGuid():N}"[..19];
    private readonly HttpClient rabbit = new()
    {
        BaseAddress = new Uri($"http://127.0.0.1:{Environment.GetEnvironmentVariable("BILLING_RABBIT_MGMT_PORT") ?? "55673"}"),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("guest:guest"u8.ToArray())) },
    };

    public IReadOnlyList<ModuleSurface> Surfaces { get; private set; } = [];

    public async Task InitializeAsync()
    {
        (await rabbit.PutAsync($"/api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        (await rabbit.PutAsJsonAsync($"/api/permissions/{vhost}/guest", new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        var surfaces = new List<ModuleSurface>();
        foreach (var module in BillingModules.Select(null))
        {
            surfaces.Add(await ServeAloneAsync(module.Name));
        }

        Surfaces = surfaces;
    }

    public async Task DisposeAsync()
    {
        await rabbit.DeleteAsync($"/api/vhosts/{vhost}");
        rabbit.Dispose();
        await using var connection = new NpgsqlConnection(Postgres);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop schema if exists {schema} cascade; drop schema if exists {schema}_hangfire cascade", connection);
        await drop.ExecuteNonQueryAsync();
    }

    private async Task<ModuleSurface> ServeAloneAsync(string module)
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseSetting("Billing:Services", module);
            host.UseSetting("Billing:OpsKey", "gateway-test-ops-key");
            host.UseSetting("Billing:Schema", schema);
            host.UseSetting("Billing:Jobs:Schedule", "false");
            host.UseSetting("ConnectionStrings:Postgres", Postgres);
            host.UseSetting("ConnectionStrings:RabbitMq", $"amqp://guest:guest@127.0.0.1:{RabbitPort}/{vhost}");
            host.UseSetting("Silo:SiloPort", FreePort());
            host.UseSetting("Silo:GatewayPort", FreePort());
        });
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode);
        // A dashboard's own pages are excluded from the API's description (and from this surface); its prefix still routes.
        var routes = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(method => ApiRoute.Of(method, e.RoutePattern)))
            .Distinct().ToList();
        var jobs = factory.Services.GetServices<BillingJobSchedule>().Select(j => j.Id).ToList();
        return new ModuleSurface(module, routes, jobs);
    }

    private static string FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
