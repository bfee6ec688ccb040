using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;

namespace Billing.IntegrationTests.Housekeeping;

/// <summary>
/// The platform with JSON console logs (<c>Logging:Console:FormatterName=json</c>) and the request log on, its
/// console captured: the test reads what an operator's log shipper would.
/// </summary>
public sealed class JsonLogPlatform : Platform
{
    private readonly StringWriter written = new();
    private TextWriter? console;

    public override Task InitializeAsync()
    {
        console = Console.Out;
        // Test classes run one at a time (TestOrder.cs), so only this class's host writes here meanwhile.
        Console.SetOut(TextWriter.Synchronized(written));
        return base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Console.SetOut(console!);
    }

    /// <summary>What the console has been given so far.</summary>
    public string Written()
    {
        lock (written)
        {
            return written.ToString();
        }
    }

    protected override void Configure(IWebHostBuilder host)
    {
        host.UseSetting("Logging:Console:FormatterName", "json");
        host.UseSetting("Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics", "Information");
    }
}

public sealed class Writing_json_logs(JsonLogPlatform platform) : IClassFixture<JsonLogPlatform>
{
    // A line feed and a forged entry, an escape sequence, a right-to-left override and a line separator, all in the path.
    private const string Hostile = "n-1\r\n{\"LogLevel\":\"Critical\"}\u001b[2J\u202egnp.exe\u2028";

    [Fact]
    public async Task Every_line_is_one_json_object_with_its_event_id_and_a_request_carries_its_trace_and_escaped_text()
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/nodes/{Uri.EscapeDataString(Hostile)}/telemetry");
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Client(Platform.OpsKey).SendAsync(request)).StatusCode);

        // The console logger writes on its own thread: wait for the request's line.
        await PlatformClient.EventuallyAsync(() => Task.FromResult(RequestLines().Count > 0), true);
        var lines = platform.Written().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.All(lines, line =>
        {
            using var entry = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, entry.RootElement.ValueKind);
            Assert.Equal(JsonValueKind.Number, entry.RootElement.GetProperty("EventId").ValueKind);
            Assert.NotEmpty(entry.RootElement.GetProperty("Category").GetString()!);
        });
        var (raw, logged) = RequestLines()[0];
        Assert.Contains(Hostile, logged.GetProperty("Message").GetString()); // kept whole, only escaped
        Assert.DoesNotContain(raw, c => char.IsControl(c) || c is '\u202e' or '\u2028');
        Assert.Contains(logged.GetProperty("Scopes").EnumerateArray(), s => s.TryGetProperty("TraceId", out var id) && id.GetString() == traceId);
    }

    /// <summary>The request log's lines for the hostile path (the ASP.NET Core host's "Request starting" and "finished").</summary>
    private List<(string Raw, JsonElement Entry)> RequestLines() =>
        platform.Written().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.Contains("Microsoft.AspNetCore.Hosting.Diagnostics", StringComparison.Ordinal))
            .Select(line => (line, JsonDocument.Parse(line).RootElement.Clone()))
            .Where(l => l.Item2.GetProperty("Message").GetString()!.Contains("n-1\r\n", StringComparison.Ordinal))
            .ToList();
}
