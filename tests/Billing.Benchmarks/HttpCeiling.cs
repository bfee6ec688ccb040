using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Billing.Benchmarks;

/// <summary>
/// The ceiling HTTP itself puts on heartbeats here, measured beside them: the same agents' client, posts
/// and concurrency against a bare Kestrel endpoint on loopback that reads each body and answers 202. What
/// a heartbeat costs beyond that is the platform's own (authentication, validation, the grains, the log).
/// </summary>
public static class HttpCeiling
{
    public static async Task<TrafficResult> PostsPerSecondAsync(IReadOnlyList<BenchNode> nodes, int gpus, int concurrency, TimeSpan duration, CancellationToken stop)
    {
        var port = BenchHost.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        await using var app = builder.Build();
        app.MapPost("/v1/nodes/{nodeId}/heartbeats", async (HttpRequest request) =>
        {
            await request.Body.CopyToAsync(Stream.Null, request.HttpContext.RequestAborted);
            return Results.StatusCode(StatusCodes.Status202Accepted);
        });
        await app.StartAsync(stop);
        using var http = HeartbeatTraffic.Client(new Uri($"http://127.0.0.1:{port}/"), concurrency);
        var result = await new HeartbeatTraffic(http, nodes, gpus).FlatOutAsync(concurrency, duration, stop);
        await app.StopAsync(stop);
        return result;
    }
}
