using System.Net;

namespace Billing.IntegrationTests.Gateway;

/// <summary>
/// The YARP gateway in front of two instances of each module: it takes turns between them, passes over one
/// that was killed, and answers a problem when none is left.
/// </summary>
public sealed class Balancing_over_instances_through_the_gateway : IAsyncLifetime
{
    private YarpGateway gateway = null!;

    public async Task InitializeAsync() => gateway = await YarpGateway.StartAsync(instancesPerModule: 2);

    public async Task DisposeAsync() => await gateway.DisposeAsync();

    [Fact]
    public async Task Requests_take_turns_over_a_modules_instances()
    {
        var served = new List<string?>();
        for (var i = 0; i < 6; i++)
        {
            served.Add((await gateway.SendAsync(HttpMethod.Get, "/v1/usage")).Instance);
        }

        Assert.Equal(3, served.Count(s => s == "ledger-1"));
        Assert.Equal(3, served.Count(s => s == "ledger-2"));
        Assert.All(served.Zip(served.Skip(1)), pair => Assert.NotEqual(pair.First, pair.Second));
    }

    [Fact]
    public async Task A_killed_instance_is_routed_around()
    {
        await gateway.KillAsync("fleet-1");

        // The first requests may still pick it (and get a 503 the agent retries) until a probe or a refused connection marks it.
        await PlatformClient.EventuallyAsync(async () => await ServedInARowAsync("/v1/nodes", 10), "fleet-2", seconds: 10);
        await PlatformClient.EventuallyAsync(async () => await ServedInARowAsync("/v1/leases/x/end", 10), "fleet-2", seconds: 10);
    }

    [Fact]
    public async Task A_module_with_no_instance_left_is_a_503_problem()
    {
        await gateway.KillAsync("invoicing-1");
        await gateway.KillAsync("invoicing-2");

        var (response, instance) = await gateway.SendAsync(HttpMethod.Get, "/v1/invoices");

        Assert.Null(instance);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.StartsWith("ledger-", (await gateway.SendAsync(HttpMethod.Get, "/v1/usage")).Instance);
    }

    [Fact]
    public async Task The_gateway_answers_its_health_and_unowned_paths_itself()
    {
        var (health, healthInstance) = await gateway.SendAsync(HttpMethod.Get, "/health");
        var (unowned, unownedInstance) = await gateway.SendAsync(HttpMethod.Get, "/v2/anything");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Null(healthInstance);
        Assert.Equal(HttpStatusCode.NotFound, unowned.StatusCode);
        Assert.Equal("application/problem+json", unowned.Content.Headers.ContentType?.MediaType);
        Assert.Null(unownedInstance);
    }

    /// <summary>The one instance that served <paramref name="count"/> requests in a row, or a list of who did.</summary>
    private async Task<string> ServedInARowAsync(string path, int count)
    {
        var served = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var (response, instance) = await gateway.SendAsync(HttpMethod.Get, path);
            served.Add(instance ?? $"gateway {(int)response.StatusCode}");
        }

        return served.Distinct().Count() == 1 ? served[0] : string.Join(",", served);
    }
}
