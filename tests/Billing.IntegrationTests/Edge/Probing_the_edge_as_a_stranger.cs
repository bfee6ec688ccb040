using System.Net;
using Xunit.Abstractions;
using static Billing.IntegrationTests.Edge.Caller;

namespace Billing.IntegrationTests.Edge;

/// <summary>
/// The adversarial suite: every endpoint under every role, then hostile input. Every answer is the
/// expected status, every refusal a small problem body (401 with WWW-Authenticate), no 5xx, and the
/// refused requests change nothing.
/// </summary>
public sealed class Probing_the_edge_as_a_stranger(Platform platform, ITestOutputHelper output) : IClassFixture<Platform>, IAsyncLifetime
{
    private static readonly Caller[] Everyone = Enum.GetValues<Caller>();
    private readonly PlatformClient api = new(platform);
    private EdgeCast cast = null!;

    public async Task InitializeAsync() => cast = await EdgeCast.CreateAsync(platform, api);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Every_endpoint_answers_every_role_as_the_api_table_says()
    {
        var before = await cast.StateAsync();
        var runner = new ProbeRunner(cast);

        await runner.RunAsync(RoleMatrix().SelectMany(row => Everyone.Select(caller =>
            new Probe(caller, row.Method, row.Path, row.Expected(caller), row.Body))));

        Report(runner, "role matrix");
        Assert.Equal(before, await cast.StateAsync());
    }

    [Fact]
    public async Task Hostile_input_gets_a_problem_naming_the_field_and_changes_nothing()
    {
        var before = await cast.StateAsync();
        var runner = new ProbeRunner(cast);

        await runner.RunAsync(HostileInput());

        Report(runner, "hostile input");
        Assert.Equal(before, await cast.StateAsync());
    }

    [Fact]
    public async Task Content_negotiation_honours_q_values_and_answers_406_for_what_it_cannot_give()
    {
        var usage = $"/v1/usage?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z";
        var runner = new ProbeRunner(cast);
        await runner.RunAsync(
        [
            Accepting(usage, "application/xml", HttpStatusCode.NotAcceptable),
            Accepting("/v1/leases", "text/csv", HttpStatusCode.NotAcceptable),
            Accepting($"/v1/leases/{cast.LeaseId}", "application/pdf", HttpStatusCode.NotAcceptable),
            Accepting(usage, "application/json;q=0, */*;q=0", HttpStatusCode.NotAcceptable),
        ]);
        Report(runner, "negotiation");

        Assert.Equal("application/json", await MediaTypeAsync(usage, "application/json, text/csv;q=0"));
        Assert.Equal("application/json", await MediaTypeAsync(usage, "text/csv;q=0.5, application/json;q=0.9"));
        Assert.Equal("text/csv", await MediaTypeAsync(usage, "application/json;q=0.1, text/csv"));
        Assert.Equal("text/csv", await MediaTypeAsync(usage, "text/*"));
        Assert.Equal("application/json", await MediaTypeAsync(usage, "*/*"));
        Assert.Equal("application/json", await MediaTypeAsync(usage, null));
    }

    /// <summary>Every endpoint of the API table with a request that changes nothing, and who gets what.</summary>
    private IEnumerable<Row> RoleMatrix()
    {
        var ghost = Guid.NewGuid();
        var period = "2026-11";
        var usage = $"/v1/usage?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&tenantId={cast.TenantId}";
        var staff = new[] { Finance, Ops };
        var tenants = new[] { Tenant, OtherTenant };
        var keyed = new[] { Tenant, OtherTenant, Node, OtherNode, Finance, Ops };

        yield return Row.Get("/health", Everyone);
        yield return Row.Get("/openapi/v1.json", Everyone);
        yield return Row.Get("/docs/", Everyone);
        yield return Row.Get("/health/live", Everyone);
        yield return Row.Get("/health/ready", Everyone);
        yield return Row.Get("/metrics", Ops);
        yield return Row.Get("/ops/hangfire", Ops);
        yield return Row.Get("/ops/orleans/", Ops);
        yield return Row.Post("/v1/tenants", "{}", HttpStatusCode.BadRequest, Ops);
        yield return Row.Get("/v1/tenants", Ops);
        yield return Row.Get($"/v1/tenants/{cast.TenantId}", Tenant, Finance, Ops) with { Others = HttpStatusCode.NotFound, OthersAre = [OtherTenant] };
        yield return Row.Post("/v1/keys", "{}", HttpStatusCode.BadRequest, Ops);
        yield return Row.Get("/v1/keys", Ops);
        yield return Row.Get($"/v1/keys/{cast.FinanceKeyId}", Ops);
        yield return Row.Delete("/v1/keys/000000000000", HttpStatusCode.NotFound, Ops);
        yield return Row.Post("/v1/nodes", "{}", HttpStatusCode.BadRequest, Ops);
        yield return Row.Get("/v1/nodes", Ops);
        yield return Row.Get($"/v1/nodes/{cast.NodeId}", Ops);
        yield return Row.Get($"/v1/nodes/{cast.NodeId}/telemetry", Ops);
        yield return Row.Get("/v1/ops/idle-gpus?threshold=5", Ops);
        yield return Row.Post("/v1/nodes/ghost-node/drain", null, HttpStatusCode.NotFound, Ops);
        yield return Row.Post("/v1/nodes/ghost-node/agent-key", null, HttpStatusCode.NotFound, Ops);
        yield return Row.Post($"/v1/nodes/{cast.NodeId}/heartbeats", "{}", HttpStatusCode.BadRequest, Node);
        yield return Row.Post("/v1/leases", "{}", HttpStatusCode.BadRequest, tenants);
        yield return Row.Get("/v1/leases", tenants);
        yield return Row.Get($"/v1/leases/{cast.LeaseId}", Tenant) with { Others = HttpStatusCode.NotFound, OthersAre = [OtherTenant] };
        yield return Row.Post($"/v1/leases/{ghost}/end", null, HttpStatusCode.NotFound, tenants);
        yield return Row.Get("/v1/fabrics", [.. tenants, .. staff]);
        yield return Row.Get("/v1/fabrics?sku=NOT-A-SKU", HttpStatusCode.BadRequest, [.. tenants, .. staff]);
        yield return Row.Get(usage, Tenant, Finance, Ops) with { Others = HttpStatusCode.NotFound, OthersAre = [OtherTenant] };
        yield return Row.Get("/v1/meters", keyed);
        yield return Row.Post("/v1/events", "{}", HttpStatusCode.UnsupportedMediaType, tenants);
        yield return Row.Get("/v1/prices", keyed);
        yield return Row.Get($"/v1/prices/spot/{EdgeCast.Sku}", keyed);
        yield return Row.Get("/v1/invoices", [.. tenants, .. staff]);
        yield return Row.Get($"/v1/invoices/{ghost}", HttpStatusCode.NotFound, [.. tenants, .. staff]);
        yield return Row.Get($"/v1/invoices/{ghost}/lines/1/explain", HttpStatusCode.NotFound, [.. tenants, .. staff]);
        yield return Row.Get($"/v1/exports/focus?period={period}", staff);
        yield return Row.Get("/v1/exports/focus/metadata", staff);
        yield return Row.Get($"/v1/invoicing/runs?period={period}", staff);
        yield return Row.Get($"/v1/reconciliation?period={period}", staff);
        yield return Row.Get($"/v1/reconciliation/runs?period={period}", staff);
        yield return Row.Post("/v1/commitments", "{}", HttpStatusCode.BadRequest, [.. tenants, .. staff]);
        yield return Row.Get("/v1/commitments", [.. tenants, .. staff]);
        yield return Row.Get($"/v1/commitments/{cast.CommitmentId}", Tenant, Finance, Ops) with { Others = HttpStatusCode.NotFound, OthersAre = [OtherTenant] };
        yield return Row.Post("/v1/ops/jobs/no-such-job/run", null, HttpStatusCode.NotFound, Ops);
        yield return Row.Get($"/v1/ops/streams/{ghost}", HttpStatusCode.NotFound, Ops);
        yield return Row.Post("/v1/ops/projections/no-such-projection/rebuild", null, HttpStatusCode.NotFound, Ops);
        yield return Row.Post("/v1/ops/replay", "{}", HttpStatusCode.BadRequest, Ops);
        yield return Row.Get($"/v1/ops/replay/{ghost}", HttpStatusCode.NotFound, Ops);
        yield return Row.Post($"/v1/ops/invoices/{ghost}/verify", null, HttpStatusCode.NotFound, Ops);
    }

    private IEnumerable<Probe> HostileInput()
    {
        var big = new string('x', 300_000);
        var heartbeat = $"/v1/nodes/{cast.NodeId}/heartbeats";
        var now = PlatformClient.Rfc3339(api.Now);
        string Gpu(string fields) => $"{{\"observedAt\":\"{now}\",\"gpus\":[{{\"index\":0,\"healthy\":true,{fields}}}]}}";
        string Lease(string sku = EdgeCast.Sku, string pricing = "\"OnDemand\"", string count = "1") =>
            $"{{\"sku\":\"{sku}\",\"gpuCount\":{count},\"pricing\":{pricing}}}";
        string Commitment(string count = "1", string startsOn = "2199-01-01", string sku = EdgeCast.Sku) =>
            $"{{\"sku\":\"{sku}\",\"gpuCount\":{count},\"startsOn\":\"{startsOn}\",\"months\":1}}";
        string NodeBody(string nodeId = "edge-new", string region = "eu-1", string sku = EdgeCast.Sku) =>
            $"{{\"nodeId\":\"{nodeId}\",\"sku\":\"{sku}\",\"gpuCount\":8,\"region\":\"{region}\"}}";
        Probe Post(Caller caller, string path, string body, string? field, HttpStatusCode expected = HttpStatusCode.BadRequest) =>
            new(caller, HttpMethod.Post, path, expected, body, field);
        Probe Get(Caller caller, string path, HttpStatusCode expected, string? field = null) => new(caller, HttpMethod.Get, path, expected, Field: field);

        // Sums that used to overflow rating, and SKUs that used to activate grains or be echoed.
        yield return Post(Tenant, "/v1/commitments", Commitment(count: "2147483647"), "gpuCount");
        yield return Post(Tenant, "/v1/commitments", Commitment(startsOn: "9999-12-01"), "startsOn");
        yield return Post(Tenant, "/v1/commitments", Commitment(startsOn: "2026-13-01"), "startsOn");
        yield return Post(Tenant, "/v1/commitments", Commitment(sku: "NOT-A-SKU"), "sku");
        yield return Post(Tenant, "/v1/commitments", Commitment(count: "1e3"), "gpuCount");
        yield return Post(Tenant, "/v1/leases", Lease(sku: big), "sku");
        yield return Post(Tenant, "/v1/leases", Lease(sku: "NOT-A-SKU"), "sku");
        yield return Post(Tenant, "/v1/leases", Lease(sku: "H100\\u0000"), "sku");
        yield return Post(Tenant, "/v1/leases", Lease(pricing: "99"), "pricing");
        yield return Post(Tenant, "/v1/leases", Lease(pricing: "-1"), "pricing");
        yield return Post(Tenant, "/v1/leases", Lease(pricing: "\"99\""), "pricing");
        yield return Post(Tenant, "/v1/leases", Lease(pricing: "\"Free\""), "pricing");
        yield return Post(Tenant, "/v1/leases", Lease(count: "0"), "gpuCount");
        yield return Post(Tenant, "/v1/leases", Lease(count: "65"), "gpuCount");
        yield return Post(Tenant, "/v1/leases", Lease(count: "99999999999"), "gpuCount");
        yield return Post(Tenant, "/v1/leases", Lease(count: "65537"), "gpuCount");
        yield return Post(Tenant, "/v1/leases", Lease(count: "12"), "gpuCount");
        yield return Post(Tenant, "/v1/leases", $"{{\"sku\":\"{EdgeCast.Sku}\",\"gpuCount\":16,\"pricing\":\"OnDemand\",\"fabric\":\"a/b\"}}", "fabric");
        yield return Post(Tenant, "/v1/leases", $"{{\"sku\":\"{EdgeCast.Sku}\",\"gpuCount\":16,\"pricing\":\"OnDemand\",\"onNodeFailure\":\"Pray\"}}", "onNodeFailure");
        yield return Post(Tenant, "/v1/leases", Lease(count: "\"1\""), "gpuCount");

        // Heartbeats: nulls, empty GPUs, telemetry outside physics, times that are not RFC 3339.
        yield return Post(Node, heartbeat, $"{{\"observedAt\":\"{now}\",\"gpus\":[null]}}", "gpus[0]");
        yield return Post(Node, heartbeat, $"{{\"observedAt\":\"{now}\",\"gpus\":[{{}}]}}", "gpus[0].index");
        yield return Post(Node, heartbeat, $"{{\"observedAt\":\"{now}\",\"gpus\":[]}}", "gpus");
        yield return Post(Node, heartbeat, Gpu("\"powerW\":1e309"), "gpus[0].powerW");
        yield return Post(Node, heartbeat, Gpu("\"utilizationPct\":-5"), "gpus[0].utilizationPct");
        yield return Post(Node, heartbeat, Gpu("\"temperatureC\":1000"), "gpus[0].temperatureC");
        yield return Post(Node, heartbeat, Gpu("\"memoryUsedMiB\":90000,\"memoryTotalMiB\":80000"), "gpus[0].memoryUsedMiB");
        yield return Post(Node, heartbeat, Gpu("\"xid\":-1"), "gpus[0].xid");
        yield return Post(Node, heartbeat, Gpu("\"uuid\":\"GPU\\u202Eevil\""), "gpus[0].uuid");
        yield return Post(Node, heartbeat, "{\"observedAt\":\"11/28/2026\",\"gpus\":[{\"index\":0,\"healthy\":true}]}", "observedAt");
        yield return Post(Node, heartbeat, "{\"observedAt\":\"2026-11-28T10:00:00\",\"gpus\":[{\"index\":0,\"healthy\":true}]}", "observedAt");
        yield return Post(Node, heartbeat, "{\"observedAt\":\"9999-11-28T10:00:00Z\",\"gpus\":[{\"index\":0,\"healthy\":true}]}", "observedAt");
        yield return Post(Node, heartbeat, "{\"observedAt\":", null);
        yield return Post(Node, heartbeat, "[1,2,3]", "body");
        yield return Post(Node, heartbeat, $"{{\"observedAt\":\"{now}\",\"gpus\":[{{\"index\":0,\"healthy\":\"yes\"}}]}}", "gpus[0].healthy");
        yield return Post(Node, heartbeat, $"{{\"observedAt\":\"{now}\",\"gpus\":[{{\"index\":0,\"healthy\":true}},{{\"index\":0,\"healthy\":true}}]}}", "gpus");
        yield return Post(Node, heartbeat, $"{{\"observedAt\":\"{now}\",\"gpus\":[{{\"index\":64,\"healthy\":true}}]}}", "gpus[0].index");
        yield return Post(Node, heartbeat, $"{{\"observedAt\":\"{now}\",\"pad\":\"{new string('x', 70_000)}\",\"gpus\":[]}}", null, HttpStatusCode.RequestEntityTooLarge);
        yield return Post(Node, heartbeat, "observedAt=now", null, HttpStatusCode.UnsupportedMediaType) with { ContentType = "application/x-www-form-urlencoded" };
        yield return Post(OtherNode, heartbeat, Gpu("\"powerW\":100"), null, HttpStatusCode.Forbidden);

        // Names, ids and regions: length caps, control and bidi characters, path-like ids.
        yield return Post(Ops, "/v1/tenants", "{\"name\":\"acme\\u0000\"}", "name");
        yield return Post(Ops, "/v1/tenants", "{\"name\":\"acme\\u202Eevil\"}", "name");
        yield return Post(Ops, "/v1/tenants", "{\"name\":\"\\ud800x\"}", "name");
        yield return Post(Ops, "/v1/tenants", $"{{\"name\":\"{big}\"}}", "name");
        yield return Post(Ops, "/v1/tenants", "{\"name\":\"   \"}", "name");
        yield return Post(Ops, "/v1/tenants", "{\"name\":42}", "name");
        yield return Post(Ops, "/v1/tenants", $"{{\"name\":\"{new string('x', 2_000_000)}\"}}", null, HttpStatusCode.RequestEntityTooLarge);
        yield return Post(Ops, "/v1/keys", "{\"role\":\"tenant\",\"name\":\"sneaky\"}", "role");
        yield return Post(Ops, "/v1/keys", "{\"role\":\"finance\",\"name\":\"tab\\tname\"}", "name");
        yield return Post(Ops, "/v1/nodes", NodeBody(nodeId: ".."), "nodeId");
        yield return Post(Ops, "/v1/nodes", NodeBody(nodeId: "."), "nodeId");
        yield return Post(Ops, "/v1/nodes", NodeBody(nodeId: "a/b"), "nodeId");
        yield return Post(Ops, "/v1/nodes", NodeBody(nodeId: new string('n', 129)), "nodeId");
        yield return Post(Ops, "/v1/nodes", NodeBody(region: big), "region");
        yield return Post(Ops, "/v1/nodes", NodeBody(region: "eu\\u0000"), "region");
        yield return Post(Ops, "/v1/nodes", NodeBody(sku: "NOT-A-SKU"), "sku");
        yield return Post(Ops, "/v1/nodes", NodeBody(nodeId: cast.NodeId), null, HttpStatusCode.Conflict);
        yield return Post(Ops, "/v1/ops/replay", "{\"consumer\":\"usage\",\"eventTypes\":[null]}", "eventTypes[0]");
        yield return Post(Ops, "/v1/ops/replay", "{\"consumer\":\"usage\",\"from\":\"0001-01-01T00:00:00Z\"}", "from");

        // Query strings: bounded pages, periods within 2000-2199, RFC 3339 only, enums by name, no NUL.
        yield return Get(Finance, "/v1/invoices?page=2147483647", HttpStatusCode.BadRequest, "page");
        yield return Get(Finance, "/v1/invoices?page=0", HttpStatusCode.BadRequest, "page");
        yield return Get(Finance, "/v1/invoices?page=abc", HttpStatusCode.BadRequest, "page");
        yield return Get(Finance, "/v1/invoices?pageSize=100000", HttpStatusCode.BadRequest, "pageSize");
        yield return Get(Finance, "/v1/invoices?status=%00", HttpStatusCode.BadRequest, "status");
        yield return Get(Finance, "/v1/invoices?status=Draft,Issued", HttpStatusCode.BadRequest, "status");
        yield return Get(Finance, "/v1/invoices?tenantId=%00", HttpStatusCode.BadRequest, "tenantId");
        yield return Get(Finance, "/v1/invoices?period=9999-12", HttpStatusCode.BadRequest, "period");
        yield return Get(Finance, "/v1/reconciliation?period=9999-12", HttpStatusCode.BadRequest, "period");
        yield return Get(Finance, "/v1/reconciliation?period=2026-1", HttpStatusCode.BadRequest, "period");
        yield return Get(Finance, "/v1/reconciliation", HttpStatusCode.BadRequest, "period");
        yield return Get(Finance, "/v1/exports/focus?period=1999-12", HttpStatusCode.BadRequest, "period");
        yield return Get(Finance, "/v1/reconciliation/runs?period=%00", HttpStatusCode.BadRequest, "period");
        yield return Get(Finance, "/v1/invoicing/runs?period=9999-01", HttpStatusCode.BadRequest, "period");
        yield return Get(Finance, "/v1/invoicing/runs?failed=maybe", HttpStatusCode.BadRequest, "failed");
        yield return Get(Tenant, "/v1/usage?from=11/28/2026&to=2026-11-29T00:00:00Z", HttpStatusCode.BadRequest, "from");
        yield return Get(Tenant, "/v1/usage?from=2026-11-28T00:00:00Z&to=2026-11-29T00:00:00Z&groupBy=1", HttpStatusCode.BadRequest, "groupBy");
        yield return Get(Tenant, "/v1/usage?from=2026-11-28T00:00:00Z&to=2026-11-29T00:00:00Z&granularity=week", HttpStatusCode.BadRequest, "granularity");
        yield return Get(Tenant, "/v1/usage?from=2026-11-29T00:00:00Z&to=2026-11-28T00:00:00Z", HttpStatusCode.BadRequest);
        yield return Get(Finance, "/v1/usage?from=2026-11-28T00:00:00Z&to=2026-11-29T00:00:00Z&tenantId=%00", HttpStatusCode.BadRequest, "tenantId");
        yield return Get(Tenant, $"/v1/prices/spot/{EdgeCast.Sku}?from=yesterday", HttpStatusCode.BadRequest, "from");
        yield return Get(Finance, "/v1/commitments?tenantId=%00", HttpStatusCode.BadRequest, "tenantId");
        yield return Get(Ops, "/v1/keys?role=%00", HttpStatusCode.BadRequest, "role");
        yield return Get(Ops, "/v1/ops/idle-gpus?threshold=101", HttpStatusCode.BadRequest, "threshold");
        yield return Get(Ops, "/v1/ops/idle-gpus?since=yesterday", HttpStatusCode.BadRequest, "since");
        yield return Get(Ops, $"/v1/nodes/{cast.NodeId}/telemetry?from=11/28/2026", HttpStatusCode.BadRequest, "from");

        // Ids in the path that no resource can have are 404, and never echoed whole.
        yield return Get(Ops, "/v1/nodes/%20", HttpStatusCode.NotFound);
        yield return Get(Ops, $"/v1/nodes/{new string('n', 5000)}", HttpStatusCode.NotFound);
        yield return Get(Ops, "/v1/tenants/%20", HttpStatusCode.NotFound);
        yield return Get(Ops, "/v1/keys/%20", HttpStatusCode.NotFound);
        yield return Get(Tenant, $"/v1/prices/spot/{new string('s', 5000)}", HttpStatusCode.NotFound);
        yield return Get(Tenant, "/v1/leases/not-a-guid", HttpStatusCode.NotFound);
        yield return Post(Ops, $"/v1/ops/projections/{new string('p', 5000)}/rebuild", "", null, HttpStatusCode.NotFound);
    }

    private static Probe Accepting(string path, string accept, HttpStatusCode expected) =>
        new(Tenant, HttpMethod.Get, path, expected) { Headers = { ["Accept"] = accept } };

    private async Task<string?> MediaTypeAsync(string path, string? accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await cast[Tenant].SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Content.Headers.ContentType?.MediaType;
    }

    private void Report(ProbeRunner runner, string name)
    {
        var summary = runner.Summary(name);
        output.WriteLine(summary);
        Console.WriteLine($"[edge] {summary}");
        Assert.True(runner.Failures.Count == 0, string.Join('\n', runner.Failures.Prepend(summary)));
        Assert.Equal(0, runner.ServerErrors);
    }

    /// <summary>An endpoint, the callers it serves (with the status they get), and what the others get.</summary>
    private sealed record Row(HttpMethod Method, string Path, string? Body, HttpStatusCode Allowed, Caller[] AllowedAre)
    {
        public HttpStatusCode Others { get; init; } = HttpStatusCode.Forbidden;

        public Caller[] OthersAre { get; init; } = [];

        public static Row Get(string path, params Caller[] allowed) => new(HttpMethod.Get, path, null, HttpStatusCode.OK, allowed);

        public static Row Get(string path, HttpStatusCode status, params Caller[] allowed) => new(HttpMethod.Get, path, null, status, allowed);

        public static Row Post(string path, string? body, HttpStatusCode status, params Caller[] allowed) => new(HttpMethod.Post, path, body, status, allowed);

        public static Row Delete(string path, HttpStatusCode status, params Caller[] allowed) => new(HttpMethod.Delete, path, null, status, allowed);

        public HttpStatusCode Expected(Caller caller) =>
            AllowedAre.Contains(caller) ? Allowed
            : OthersAre.Contains(caller) ? Others
            : caller is None or BadKey ? HttpStatusCode.Unauthorized
            : HttpStatusCode.Forbidden;
    }
}
