using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Billing.ServiceDefaults.Access;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Billing.IntegrationTests;

public sealed class Refusing_bad_keys(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task A_flood_of_garbage_keys_gets_401_problems_without_a_database_lookup_each()
    {
        using var lookups = new MetricCollector<long>(platform.Services.GetRequiredService<IMeterFactory>(), KnownKeys.MeterName, KnownKeys.LookupsInstrument);
        var wellFormed = $"tenant_{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_')}";
        var first = await GetLeasesAsync(wellFormed);

        var again = await Task.WhenAll(Enumerable.Range(0, 150).Select(_ => GetLeasesAsync(wellFormed)));
        var malformed = await Task.WhenAll(Enumerable.Range(0, 150).Select(i => GetLeasesAsync($"garbage-{i}-{Guid.NewGuid()}")));

        Assert.All(again.Concat(malformed).Append(first), response =>
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        });
        Assert.Equal(1, lookups.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task A_request_without_a_key_is_challenged_for_one()
    {
        var response = await platform.Client().GetAsync("/v1/leases");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("text/csv")]
    [InlineData("application/pdf")]
    public async Task Refusals_and_bare_status_codes_are_problem_json_whatever_the_accept_header(string accept)
    {
        var (tenantId, tenant) = await api.TenantAsync("accepting");
        var (_, agent) = await api.NodeAsync("A100-SXM-80GB");
        var usage = $"/v1/usage?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&tenantId={tenantId}";

        var noKey = await GetAsync(platform.Client(), usage, accept);
        var badKey = await GetAsync(platform.Client("tenant_not-a-key"), usage, accept);
        var wrongRole = await GetAsync(tenant, "/v1/exports/focus?period=2026-11", accept);
        var nodeForInvoices = await GetAsync(agent, "/v1/invoices", accept);
        var noSuchPath = await GetAsync(api.Ops, "/v1/no-such-path", accept);

        foreach (var (response, status) in new[] { (noKey, 401), (badKey, 401), (wrongRole, 403), (nodeForInvoices, 403), (noSuchPath, 404) })
        {
            Assert.Equal((HttpStatusCode)status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains($"\"status\":{status}", await response.Content.ReadAsStringAsync());
        }
    }

    private Task<HttpResponseMessage> GetLeasesAsync(string key) => GetAsync(platform.Client(key), "/v1/leases", "application/json");

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string path, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
