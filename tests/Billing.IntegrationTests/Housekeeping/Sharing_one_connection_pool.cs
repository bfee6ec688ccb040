using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Npgsql;

namespace Billing.IntegrationTests.Housekeeping;

/// <summary>The platform with a pool of a few connections and an application name of its own, so PostgreSQL can count what it holds.</summary>
public sealed class SmallPoolPlatform : Platform
{
    public const int PoolSize = 10;

    public string ApplicationName { get; } = $"pool-{Guid.NewGuid():N}"[..13];

    /// <summary>Where a test counts the host's connections from (a connection of its own, outside the host's pools).</summary>
    public static string Sampling => Postgres;

    protected override void Configure(IWebHostBuilder host) =>
        host.UseSetting("ConnectionStrings:Postgres", $"{Postgres};Maximum Pool Size={PoolSize};Application Name={ApplicationName}");
}

/// <summary>
/// Marten, the idempotency keys and the logs draw on one pool: requests that touch them all at once wait their
/// turn for its connections rather than open a pool each, so the pool size set in the connection string bounds
/// what a host holds (Hangfire and the readiness probe keep their own, small, pools).
/// </summary>
public sealed class Sharing_one_connection_pool(SmallPoolPlatform platform) : IClassFixture<SmallPoolPlatform>
{
    /// <summary>Connections of the pools outside the shared one that may be open meanwhile: the readiness probe's (one) and Hangfire's (seen: up to three).</summary>
    private const int OtherPools = 6;

    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task Requests_at_once_through_idempotency_keys_marten_and_the_usage_reads_hold_one_pool()
    {
        var (_, tenant) = await api.TenantAsync();
        using var sampling = new CancellationTokenSource();
        var peak = PeakConnectionsAsync(sampling.Token);

        var answers = await Task.WhenAll(Enumerable.Range(0, 160).Select(i => i % 2 == 0 ? CreateTenantAsync(i) : tenant.GetAsync(UsageQuery())));
        await sampling.CancelAsync();

        Assert.All(answers, a => Assert.True(a.IsSuccessStatusCode, $"{(int)a.StatusCode} {a.RequestMessage?.RequestUri}"));
        Assert.InRange(await peak, 1, SmallPoolPlatform.PoolSize + OtherPools);
    }

    private Task<HttpResponseMessage> CreateTenantAsync(int i)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/tenants") { Content = JsonContent.Create(new { name = $"pooled-{i}" }) };
        request.Headers.Add("Idempotency-Key", $"pool-{Guid.NewGuid()}");
        return api.Ops.SendAsync(request);
    }

    private string UsageQuery() =>
        $"/v1/usage?from={PlatformClient.Rfc3339(api.Now.AddDays(-1))}&to={PlatformClient.Rfc3339(api.Now)}&granularity=hour&groupBy=sku";

    /// <summary>The most connections the host held at once, sampled until cancelled.</summary>
    private async Task<long> PeakConnectionsAsync(CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(SmallPoolPlatform.Sampling);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("select count(*) from pg_stat_activity where application_name = $1", connection)
        {
            Parameters = { new NpgsqlParameter { Value = platform.ApplicationName } },
        };
        long peak = 0;
        while (!stop.IsCancellationRequested)
        {
            peak = Math.Max(peak, (long)(await count.ExecuteScalarAsync())!);
            await Task.Delay(TimeSpan.FromMilliseconds(10), CancellationToken.None);
        }

        return peak;
    }
}
