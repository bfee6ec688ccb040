using System.Net;
using System.Net.Http.Json;

namespace Billing.IntegrationTests.Edge;

public sealed class Creating_resources_at_the_edge(Platform platform) : IClassFixture<Platform>
{
    private const string Sku = "H100-SXM-80GB";
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task Racing_registrations_of_one_node_give_exactly_one_agent_key()
    {
        var nodeId = $"race-{Guid.NewGuid():N}"[..17];

        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            api.Ops.PostAsJsonAsync("/v1/nodes", new { nodeId, sku = Sku, gpuCount = 8, region = "eu-1" })));

        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Created);
        Assert.Equal(4, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
        var keys = await PlatformClient.ReadAsync(await api.Ops.GetAsync("/v1/keys?role=node"), HttpStatusCode.OK);
        Assert.Single(keys.EnumerateArray(), k => k.GetProperty("nodeId").GetString() == nodeId);
        var winner = await PlatformClient.ReadAsync(answers.Single(a => a.StatusCode == HttpStatusCode.Created), HttpStatusCode.Created);
        var agent = platform.Client(winner.GetProperty("agentKey").GetString());
        Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId)).StatusCode);
    }

    [Fact]
    public async Task Rotating_an_agent_key_retires_the_old_one()
    {
        var (nodeId, oldAgent) = await api.NodeAsync(Sku);
        Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(oldAgent, nodeId)).StatusCode);

        var rotated = await PlatformClient.ReadAsync(await api.Ops.PostAsync($"/v1/nodes/{nodeId}/agent-key", null), HttpStatusCode.OK);
        api.Advance(TimeSpan.FromSeconds(15));

        Assert.Equal(1, rotated.GetProperty("revoked").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.HeartbeatAsync(oldAgent, nodeId)).StatusCode);
        var newAgent = platform.Client(rotated.GetProperty("agentKey").GetString());
        Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(newAgent, nodeId)).StatusCode);
    }

    [Fact]
    public async Task Every_location_of_a_created_resource_resolves()
    {
        var tenant = await api.Ops.PostAsJsonAsync("/v1/tenants", new { name = "located" });
        var key = await api.Ops.PostAsJsonAsync("/v1/keys", new { role = "finance", name = "located" });
        var nodeId = $"loc-{Guid.NewGuid():N}"[..16];
        var node = await api.Ops.PostAsJsonAsync("/v1/nodes", new { nodeId, sku = Sku, gpuCount = 8, region = "eu-1" });
        var agent = platform.Client((await PlatformClient.ReadAsync(node, HttpStatusCode.Created)).GetProperty("agentKey").GetString());
        Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId)).StatusCode);
        var tenantKey = platform.Client((await PlatformClient.ReadAsync(tenant, HttpStatusCode.Created)).GetProperty("apiKey").GetString());
        var lease = await tenantKey.PostAsJsonAsync("/v1/leases", new { sku = Sku, gpuCount = 1, pricing = "OnDemand" });
        var startsOn = api.Now.UtcDateTime.Date.AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var commitment = await tenantKey.PostAsJsonAsync("/v1/commitments", new { sku = Sku, gpuCount = 1, startsOn, months = 1 });

        foreach (var (created, reader) in new[] { (tenant, api.Ops), (key, api.Ops), (node, api.Ops), (lease, tenantKey), (commitment, tenantKey) })
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var location = created.Headers.Location!;
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(location)).StatusCode);
        }
    }
}
