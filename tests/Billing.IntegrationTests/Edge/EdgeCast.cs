using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Billing.IntegrationTests.Edge;

/// <summary>Who knocks on the edge: no key, a made-up key, and a key of every role (two tenants, two nodes).</summary>
public enum Caller
{
    None,
    BadKey,
    Tenant,
    OtherTenant,
    Node,
    OtherNode,
    Finance,
    Ops,
}

/// <summary>
/// One tenant with a lease and a commitment, a second tenant, two nodes and a finance key: the
/// resources the probes aim at, and a client for each caller.
/// </summary>
public sealed class EdgeCast
{
    public const string Sku = "H100-SXM-80GB";

    private readonly Dictionary<Caller, HttpClient> clients = [];

    public required string TenantId { get; init; }

    public required string NodeId { get; init; }

    public required Guid LeaseId { get; init; }

    public required Guid CommitmentId { get; init; }

    public required string FinanceKeyId { get; init; }

    public HttpClient this[Caller caller] => clients[caller];

    public static async Task<EdgeCast> CreateAsync(Platform platform, PlatformClient api)
    {
        var (tenantId, tenant) = await api.TenantAsync("edge-owner");
        var (_, otherTenant) = await api.TenantAsync("edge-other");
        var (nodeId, node) = await api.NodeAsync(Sku, gpuCount: 8);
        var (_, otherNode) = await api.NodeAsync(Sku, gpuCount: 8);
        var finance = await PlatformClient.ReadAsync(await api.Ops.PostAsJsonAsync("/v1/keys", new { role = "finance", name = "edge-finance" }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(node, nodeId)).StatusCode);
        var lease = await PlatformClient.ReadAsync(await tenant.PostAsJsonAsync("/v1/leases", new { sku = Sku, gpuCount = 1, pricing = "OnDemand" }), HttpStatusCode.Created);
        var startsOn = api.Now.UtcDateTime.Date.AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var commitment = await PlatformClient.ReadAsync(
            await tenant.PostAsJsonAsync("/v1/commitments", new { sku = Sku, gpuCount = 1, startsOn, months = 1 }), HttpStatusCode.Created);

        var cast = new EdgeCast
        {
            TenantId = tenantId,
            NodeId = nodeId,
            LeaseId = lease.GetProperty("leaseId").GetGuid(),
            CommitmentId = commitment.GetProperty("id").GetGuid(),
            FinanceKeyId = finance.GetProperty("keyId").GetString()!,
        };
        cast.clients[Caller.None] = platform.Client();
        cast.clients[Caller.BadKey] = platform.Client("tenant_made-up-key");
        cast.clients[Caller.Tenant] = tenant;
        cast.clients[Caller.OtherTenant] = otherTenant;
        cast.clients[Caller.Node] = node;
        cast.clients[Caller.OtherNode] = otherNode;
        cast.clients[Caller.Finance] = platform.Client(finance.GetProperty("key").GetString());
        cast.clients[Caller.Ops] = api.Ops;
        return cast;
    }

    /// <summary>What every refused request must leave as it was: tenants, keys, nodes, leases, commitments, invoices.</summary>
    public async Task<string> StateAsync()
    {
        var ops = clients[Caller.Ops];
        var parts = new List<string>();
        foreach (var path in new[]
        {
            "/v1/tenants", "/v1/keys?role=ops", "/v1/keys?role=finance", "/v1/keys?role=tenant", "/v1/keys?role=node", "/v1/nodes",
            $"/v1/commitments?tenantId={TenantId}", $"/v1/invoices?tenantId={TenantId}",
        })
        {
            var list = await PlatformClient.ReadAsync(await ops.GetAsync(path), HttpStatusCode.OK);
            parts.Add($"{path}: {string.Join(",", list.EnumerateArray().Select(Identity))}");
        }

        var leases = await PlatformClient.ReadAsync(await clients[Caller.Tenant].GetAsync("/v1/leases"), HttpStatusCode.OK);
        parts.Add($"leases: {string.Join(",", leases.EnumerateArray().Select(l => $"{l.GetProperty("leaseId")}/{l.GetProperty("state")}"))}");
        return string.Join('\n', parts);
    }

    private static string Identity(JsonElement item) =>
        item.TryGetProperty("keyId", out var keyId) ? $"{keyId}/{item.GetProperty("revokedAt")}"
        : item.TryGetProperty("nodeId", out var nodeId) ? $"{nodeId}/{item.GetProperty("drained")}"
        : item.TryGetProperty("invoiceId", out var invoiceId) ? invoiceId.ToString()
        : $"{item.GetProperty("id")}/{(item.TryGetProperty("name", out var name) ? name.ToString() : "")}";
}
