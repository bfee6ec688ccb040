using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Billing.Benchmarks;

/// <summary>A node as its agent knows it: its id, its agent key and the time of its last heartbeat.</summary>
public sealed class BenchNode(string nodeId, string key)
{
    public string NodeId { get; } = nodeId;

    public AuthenticationHeaderValue Key { get; } = new("Bearer", key);

    public DateTimeOffset Last { get; set; }
}

/// <summary>What a run of posts got back: 202s, other answers by status, and each post's latency.</summary>
public sealed record TrafficResult(long Accepted, IReadOnlyDictionary<HttpStatusCode, long> Refused, IReadOnlyList<long> Latencies, TimeSpan Elapsed)
{
    public double PerSecond => Accepted / Elapsed.TotalSeconds;

    public string RefusedText => Refused.Count == 0 ? "none refused" : string.Join(", ", Refused.Select(r => $"{r.Value} x {(int)r.Key}"));
}

/// <summary>
/// Agents posting heartbeats with per-GPU telemetry over HTTP, stamped with the real clock: a node's
/// heartbeats go one at a time and in order (a node belongs to one worker), <c>concurrency</c> posts
/// in flight at most, either as fast as the API answers or paced to a total rate.
/// </summary>
public sealed class HeartbeatTraffic(HttpClient http, IReadOnlyList<BenchNode> nodes, int gpus)
{
    private readonly byte[] gpusJson = Encoding.UTF8.GetBytes("[" + string.Join(',', Enumerable.Range(0, gpus).Select(i =>
        $$"""{"index":{{i}},"uuid":"GPU-bench-{{i}}","healthy":true,"utilizationPct":{{50 + i}}.5,"memoryUsedMiB":40960,"memoryTotalMiB":81920,"temperatureC":61,"powerW":512.5}""")) + "]");

    /// <summary>The agents' client for <paramref name="concurrency"/> posts in flight: a connection each, and a few spare.</summary>
    public static HttpClient Client(Uri baseAddress, int concurrency) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency + 8 }) { BaseAddress = baseAddress };

    /// <summary>Posts as fast as answered for <paramref name="duration"/> (posts in flight then finish and count).</summary>
    public async Task<TrafficResult> FlatOutAsync(int concurrency, TimeSpan duration, CancellationToken stop)
    {
        using var ending = new CancellationTokenSource(duration);
        return await RunAsync(concurrency, rate: null, ending.Token, stop);
    }

    /// <summary>Every node posts once (in <paramref name="concurrency"/> workers).</summary>
    public Task<TrafficResult> OnceEachAsync(int concurrency, CancellationToken stop) => RunAsync(concurrency, rate: null, once: true, CancellationToken.None, stop);

    /// <summary>
    /// Posts until <paramref name="ending"/> (posts in flight finish and count), as fast as answered, or at
    /// <paramref name="rate"/> heartbeats/s in total; <paramref name="stop"/> aborts.
    /// </summary>
    public Task<TrafficResult> RunAsync(int concurrency, double? rate, CancellationToken ending, CancellationToken stop) =>
        RunAsync(concurrency, rate, once: false, ending, stop);

    private async Task<TrafficResult> RunAsync(int concurrency, double? rate, bool once, CancellationToken ending, CancellationToken stop)
    {
        var workers = Math.Min(concurrency, nodes.Count);
        var results = new (long Accepted, Dictionary<HttpStatusCode, long> Refused, List<long> Latencies)[workers];
        var began = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var mine = nodes.Where((_, i) => i % workers == w).ToList();
            var (accepted, refused, latencies) = (0L, new Dictionary<HttpStatusCode, long>(), new List<long>());
            var interval = rate is { } r ? (long)(Stopwatch.Frequency * workers / r) : 0;
            var slot = began + (interval * w / workers);
            for (var n = 0; !ending.IsCancellationRequested && !(once && n == mine.Count); n++)
            {
                if (interval > 0)
                {
                    slot += interval;
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), slot);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, stop);
                    }
                }

                var node = mine[n % mine.Count];
                var start = Stopwatch.GetTimestamp();
                var status = await PostAsync(node, stop);
                latencies.Add(Stopwatch.GetTimestamp() - start);
                if (status == HttpStatusCode.Accepted)
                {
                    accepted++;
                }
                else
                {
                    refused[status] = refused.GetValueOrDefault(status) + 1;
                }
            }

            results[w] = (accepted, refused, latencies);
        }, stop)));
        var elapsed = Stopwatch.GetElapsedTime(began);
        var allRefused = results.SelectMany(r => r.Refused).GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Sum(r => r.Value));
        return new TrafficResult(results.Sum(r => r.Accepted), allRefused, [.. results.SelectMany(r => r.Latencies)], elapsed);
    }

    private async Task<HttpStatusCode> PostAsync(BenchNode node, CancellationToken stop)
    {
        var now = DateTimeOffset.UtcNow;
        var observedAt = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
        node.Last = observedAt > node.Last ? observedAt : node.Last.AddMilliseconds(1);
        var body = new byte[64 + gpusJson.Length];
        var length = Encoding.UTF8.GetBytes($"{{\"observedAt\":\"{node.Last.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}\",\"gpus\":", body);
        gpusJson.CopyTo(body, length);
        body[length + gpusJson.Length] = (byte)'}';
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"/v1/nodes/{node.NodeId}/heartbeats", UriKind.Relative))
        {
            Content = new ByteArrayContent(body, 0, length + gpusJson.Length + 1) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            Headers = { Authorization = node.Key },
        };
        using var response = await http.SendAsync(request, stop);
        return response.StatusCode;
    }
}
