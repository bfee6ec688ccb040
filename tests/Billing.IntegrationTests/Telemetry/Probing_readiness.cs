using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Billing.IntegrationTests.Telemetry;

/// <summary>
/// The broker is cut off by deleting this platform's RabbitMQ virtual host (the shared broker keeps
/// running for everyone else), then given back by creating it again.
/// </summary>
public sealed class Probing_readiness(Platform platform) : IClassFixture<Platform>, IDisposable
{
    private readonly HttpClient rabbit = new()
    {
        BaseAddress = new Uri($"http://127.0.0.1:{Environment.GetEnvironmentVariable("BILLING_RABBIT_MGMT_PORT") ?? "55673"}"),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("guest:guest"u8.ToArray())) },
    };

    [Fact]
    public async Task Ready_turns_unready_while_the_broker_is_unreachable_and_ready_again_after()
    {
        var probe = platform.Client();
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(probe, "/health/ready"));

        (await rabbit.DeleteAsync($"/api/vhosts/{platform.VirtualHost}")).EnsureSuccessStatusCode();
        await PlatformClient.EventuallyAsync(() => StatusAsync(probe, "/health/ready"), HttpStatusCode.ServiceUnavailable);
        var unready = await (await probe.GetAsync(new Uri("/health/ready", UriKind.Relative))).Content.ReadFromJsonAsync<Report>();
        var live = await StatusAsync(probe, "/health/live");

        (await rabbit.PutAsync($"/api/vhosts/{platform.VirtualHost}", null)).EnsureSuccessStatusCode();
        (await rabbit.PutAsJsonAsync($"/api/permissions/{platform.VirtualHost}/guest", new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        await PlatformClient.EventuallyAsync(() => StatusAsync(probe, "/health/ready"), HttpStatusCode.OK);

        Assert.Equal("Unhealthy", unready!.Checks["rabbitmq"]);
        Assert.Equal("Healthy", unready.Checks["postgres"]);
        Assert.Equal("Healthy", unready.Checks["orleans-silo"]);
        Assert.Equal(HttpStatusCode.OK, live);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(probe, "/health"));
    }

    public void Dispose() => rabbit.Dispose();

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path) =>
        (await client.GetAsync(new Uri(path, UriKind.Relative))).StatusCode;

    private sealed record Report(string Status, Dictionary<string, string> Checks);
}
