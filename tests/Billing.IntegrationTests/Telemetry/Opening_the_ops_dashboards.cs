using System.Net;

namespace Billing.IntegrationTests.Telemetry;

public sealed class Opening_the_ops_dashboards(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    [Theory]
    [InlineData("/ops/hangfire")]
    [InlineData("/ops/hangfire/recurring")]
    [InlineData("/ops/orleans/")]
    public async Task A_dashboard_answers_ops_and_refuses_every_other_caller(string path)
    {
        var (_, tenant) = await api.TenantAsync("curious");
        var finance = await PlatformClient.ReadAsync(
            await api.Ops.PostAsync("/v1/keys", System.Net.Http.Json.JsonContent.Create(new { role = "finance", name = "books" })), HttpStatusCode.Created);
        var uri = new Uri(path, UriKind.Relative);

        var ops = await api.Ops.GetAsync(uri);

        Assert.Equal(HttpStatusCode.OK, ops.StatusCode);
        Assert.Contains("text/html", ops.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await platform.Client().GetAsync(uri)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await platform.Client("not-a-key").GetAsync(uri)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync(uri)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await platform.Client(finance.GetProperty("key").GetString()).GetAsync(uri)).StatusCode);
    }
}
