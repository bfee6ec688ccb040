using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Billing.ServiceDefaults.Idempotency;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.IntegrationTests;

public sealed class Retrying_a_post_with_an_idempotency_key(Platform platform) : IClassFixture<Platform>
{
    private const string Sku = "H200-SXM-141GB";
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task A_retry_replays_the_first_answer_and_places_one_lease()
    {
        var tenant = await TenantWithCapacityAsync();
        var key = NewKey();

        var first = await LeaseAsync(tenant, key, gpuCount: 1);
        var retry = await LeaseAsync(tenant, key, gpuCount: 1);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(first.StatusCode, retry.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal(first.Content.Headers.ContentType, retry.Content.Headers.ContentType);
        Assert.False(first.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.Equal("true", Assert.Single(retry.Headers.GetValues(IdempotencyMiddleware.ReplayedHeader)));
        Assert.Equal(1, await LeaseCountAsync(tenant));
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_a_422_problem()
    {
        var tenant = await TenantWithCapacityAsync();
        var key = NewKey();

        var first = await LeaseAsync(tenant, key, gpuCount: 1);
        var other = await LeaseAsync(tenant, key, gpuCount: 2);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, await LeaseCountAsync(tenant));
    }

    [Fact]
    public async Task An_invalid_request_leaves_its_key_to_the_corrected_one()
    {
        var tenant = await TenantWithCapacityAsync();
        var key = NewKey();

        var invalid = await LeaseAsync(tenant, key, gpuCount: 0);
        var corrected = await LeaseAsync(tenant, key, gpuCount: 1);

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.Created, corrected.StatusCode);
        Assert.Equal(1, await LeaseCountAsync(tenant));
    }

    [Fact]
    public async Task Concurrent_requests_under_one_key_place_one_lease()
    {
        var tenant = await TenantWithCapacityAsync();
        var key = NewKey();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => LeaseAsync(tenant, key, gpuCount: 1))));

        // Each one either ran, replayed the one that ran, or was told that one is still running.
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var leases = await Task.WhenAll(answers.Where(a => a.StatusCode == HttpStatusCode.Created).Select(a => a.Content.ReadFromJsonAsync<CreatedLease>()));
        Assert.Single(leases.Select(l => l!.LeaseId).Distinct());
        foreach (var conflict in answers.Where(a => a.StatusCode == HttpStatusCode.Conflict))
        {
            Assert.Equal("application/problem+json", conflict.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(conflict.Headers.RetryAfter);
        }

        Assert.Equal(1, await LeaseCountAsync(tenant));
    }

    [Fact]
    public async Task Another_callers_same_key_is_independent()
    {
        var owner = await TenantWithCapacityAsync();
        var (_, other) = await api.TenantAsync("other");
        var key = NewKey();

        var mine = await LeaseAsync(owner, key, gpuCount: 1);
        var theirs = await LeaseAsync(other, key, gpuCount: 1);

        Assert.Equal(HttpStatusCode.Created, mine.StatusCode);
        Assert.Equal(HttpStatusCode.Created, theirs.StatusCode);
        Assert.False(theirs.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.NotEqual((await mine.Content.ReadFromJsonAsync<CreatedLease>())!.LeaseId, (await theirs.Content.ReadFromJsonAsync<CreatedLease>())!.LeaseId);
        Assert.Equal(1, await LeaseCountAsync(owner));
        Assert.Equal(1, await LeaseCountAsync(other));
    }

    [Theory]
    [InlineData(256, 'k')]
    [InlineData(8, '\u00e9')]
    public async Task A_key_too_long_or_not_printable_ascii_is_a_400_problem(int length, char fill)
    {
        var tenant = await TenantWithCapacityAsync();

        var refused = await LeaseAsync(tenant, new string(fill, length), gpuCount: 1);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await LeaseCountAsync(tenant));
    }

    [Fact]
    public async Task A_claim_whose_request_never_answered_lapses_and_an_answer_expires_after_a_day()
    {
        var store = platform.Services.GetRequiredService<IdempotencyStore>();
        var (caller, key, request, another) = ($"test-{Guid.NewGuid():N}", NewKey(), RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));

        var crashed = await store.ClaimAsync(caller, key, request, CancellationToken.None);
        var whileHeld = await store.ClaimAsync(caller, key, request, CancellationToken.None);
        api.Advance(IdempotencyStore.ClaimLease + TimeSpan.FromSeconds(1));
        var otherRequest = await store.ClaimAsync(caller, key, another, CancellationToken.None);
        var takenOver = await store.ClaimAsync(caller, key, request, CancellationToken.None);
        Assert.True(await store.CompleteAsync(caller, key, takenOver.Token, new StoredAnswer(201, "application/json", "/v1/x", [1, 2, 3])));
        Assert.False(await store.CompleteAsync(caller, key, crashed.Token, new StoredAnswer(201, "application/json", "/v1/y", [4])));
        var replayed = await store.ClaimAsync(caller, key, request, CancellationToken.None);
        api.Advance(IdempotencyStore.Retention);
        var afterADay = await store.ClaimAsync(caller, key, another, CancellationToken.None);

        Assert.Equal(ClaimOutcome.Claimed, crashed.Outcome);
        Assert.Equal(ClaimOutcome.InProgress, whileHeld.Outcome);
        Assert.Equal(ClaimOutcome.Mismatch, otherRequest.Outcome);
        Assert.Equal(ClaimOutcome.Claimed, takenOver.Outcome);
        Assert.Equal(ClaimOutcome.Replay, replayed.Outcome);
        Assert.Equal("/v1/x", replayed.Answer!.Location);
        Assert.Equal([1, 2, 3], replayed.Answer.Body);
        Assert.Equal(ClaimOutcome.Claimed, afterADay.Outcome);
    }

    private static string NewKey() => $"retry-{Guid.NewGuid()}";

    private async Task<HttpClient> TenantWithCapacityAsync()
    {
        var (_, tenant) = await api.TenantAsync("idempotent");
        var (nodeId, agent) = await api.NodeAsync(Sku, gpuCount: 8);
        Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId)).StatusCode);
        return tenant;
    }

    private static async Task<HttpResponseMessage> LeaseAsync(HttpClient tenant, string key, int gpuCount)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/leases") { Content = JsonContent.Create(new { sku = Sku, gpuCount, pricing = "OnDemand" }) };
        request.Headers.TryAddWithoutValidation(IdempotencyMiddleware.Header, key);
        var response = await tenant.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static async Task<int> LeaseCountAsync(HttpClient tenant) =>
        (await PlatformClient.ReadAsync(await tenant.GetAsync("/v1/leases"), HttpStatusCode.OK)).GetArrayLength();

    private sealed record CreatedLease(Guid LeaseId);
}
