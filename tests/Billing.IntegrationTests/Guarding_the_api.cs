using System.Net;
using System.Net.Http.Json;

namespace Billing.IntegrationTests;

public sealed class Guarding_the_api(Platform platform) : IClassFixture<Platform>
{
    private const string Sku = "A100-SXM-80GB";
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task A_request_without_a_valid_key_gets_401()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await platform.Client().GetAsync("/v1/leases")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await platform.Client("tenant_not-a-key").GetAsync("/v1/leases")).StatusCode);
    }

    [Fact]
    public async Task Each_key_reaches_only_what_its_role_allows()
    {
        var (_, tenant) = await api.TenantAsync();
        var (nodeId, agent) = await api.NodeAsync(Sku);

        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync("/v1/nodes")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.PostAsJsonAsync("/v1/tenants", new { name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.HeartbeatAsync(tenant, nodeId)).StatusCode);
        var (otherNode, _) = await api.NodeAsync(Sku);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.HeartbeatAsync(agent, otherNode)).StatusCode);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_at_once()
    {
        var issued = await PlatformClient.ReadAsync(await api.Ops.PostAsJsonAsync("/v1/keys", new { role = "finance", name = "leaving" }), HttpStatusCode.Created);
        var finance = platform.Client(issued.GetProperty("key").GetString());
        var trusted = await finance.GetAsync("/v1/invoices");

        var revoked = await api.Ops.DeleteAsync($"/v1/keys/{issued.GetProperty("keyId").GetString()}");

        Assert.Equal(HttpStatusCode.OK, trusted.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await finance.GetAsync("/v1/invoices")).StatusCode);
    }

    [Fact]
    public async Task A_tenant_cannot_see_another_tenants_lease_usage_or_invoice()
    {
        var (ownerId, owner) = await api.TenantAsync("owner");
        var (_, other) = await api.TenantAsync("other");
        var (nodeId, agent) = await api.NodeAsync(Sku);
        await api.HeartbeatAsync(agent, nodeId);
        var lease = await PlatformClient.ReadAsync(await owner.PostAsJsonAsync("/v1/leases", new { sku = Sku, gpuCount = 1, pricing = "Spot" }), HttpStatusCode.Created);
        var leaseId = lease.GetProperty("leaseId").GetGuid();

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/v1/leases/{leaseId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsync($"/v1/leases/{leaseId}/end", null)).StatusCode);
        Assert.Empty((await PlatformClient.ReadAsync(await other.GetAsync("/v1/leases"), HttpStatusCode.OK)).EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound,
            (await other.GetAsync($"/v1/usage?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&tenantId={ownerId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/v1/leases/{leaseId}")).StatusCode);
    }

    [Fact]
    public async Task A_bad_heartbeat_gets_a_problem_and_changes_nothing()
    {
        var (nodeId, agent) = await api.NodeAsync(Sku, gpuCount: 2);

        var malformed = await agent.PostAsJsonAsync($"/v1/nodes/{nodeId}/heartbeats", new { gpus = new[] { new { index = 0, healthy = true }, new { index = 0, healthy = true } } });
        var unknownGpu = await api.HeartbeatAsync(agent, nodeId, gpuCount: 3);
        var future = await api.HeartbeatAsync(agent, nodeId, gpuCount: 2, at: api.Now.AddMinutes(3));
        var late = await api.HeartbeatAsync(agent, nodeId, gpuCount: 2, at: api.Now.AddHours(-25));

        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
        Assert.Contains("observedAt", await malformed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, unknownGpu.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, future.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, late.StatusCode);
        var node = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/nodes/{nodeId}"), HttpStatusCode.OK);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, node.GetProperty("lastHeartbeatAt").ValueKind);
    }

    [Fact]
    public async Task A_node_of_a_sku_the_price_book_cannot_rate_is_refused()
    {
        var response = await api.Ops.PostAsJsonAsync("/v1/nodes", new { nodeId = $"n-{Guid.NewGuid():N}"[..12], sku = "B200-UNPRICED", gpuCount = 8, region = "x" });

        var errors = (await PlatformClient.ReadAsync(response, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.Contains("H100-SXM-80GB", errors.GetProperty("sku")[0].GetString());
    }

    [Fact]
    public async Task Heartbeats_out_of_order_are_refused_and_duplicates_acknowledged()
    {
        var (nodeId, agent) = await api.NodeAsync(Sku, gpuCount: 1);
        var at = api.Now;

        var first = await api.HeartbeatAsync(agent, nodeId, gpuCount: 1, at: at);
        var duplicate = await api.HeartbeatAsync(agent, nodeId, gpuCount: 1, at: at);
        var older = await api.HeartbeatAsync(agent, nodeId, gpuCount: 1, at: at.AddSeconds(-1));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, older.StatusCode);
    }

    [Fact]
    public async Task A_lease_of_an_unknown_sku_is_refused_before_placement_without_echoing_it()
    {
        var (_, tenant) = await api.TenantAsync();
        var sku = new string('X', 100_000);

        var refused = await tenant.PostAsJsonAsync("/v1/leases", new { sku, gpuCount = 2, pricing = "OnDemand" });
        var invalid = await tenant.PostAsJsonAsync("/v1/leases", new { sku = "H100-SXM-80GB", gpuCount = 0 });

        var body = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.DoesNotContain("XXXX", body, StringComparison.Ordinal);
        Assert.Contains("H100-SXM-80GB", body, StringComparison.Ordinal);
        var errors = (await PlatformClient.ReadAsync(invalid, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("gpuCount", out _));
        Assert.True(errors.TryGetProperty("pricing", out _));
    }
}
