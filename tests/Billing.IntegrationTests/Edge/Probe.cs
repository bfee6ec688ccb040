using System.Net;
using System.Text;
using System.Text.Json;

namespace Billing.IntegrationTests.Edge;

/// <summary>One request a stranger might send, and the status it must get.</summary>
public sealed record Probe(Caller Caller, HttpMethod Method, string Path, HttpStatusCode Expected, string? Body = null, string? Field = null)
{
    public Dictionary<string, string> Headers { get; init; } = [];

    public string ContentType { get; init; } = "application/json";

    public override string ToString() => $"{Caller} {Method} {Clip(Path)} {Clip(Body)}";

    public HttpRequestMessage ToRequest()
    {
        var request = new HttpRequestMessage(Method, Path);
        if (Body is not null)
        {
            request.Content = new StringContent(Body, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(ContentType) { CharSet = "utf-8" };
        }

        foreach (var (name, value) in Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static string Clip(string? text) => text is null ? "" : text.Length > 80 ? text[..80] + "…" : text;
}

/// <summary>Sends probes and checks what every answer owes a caller, counting as it goes.</summary>
public sealed class ProbeRunner(EdgeCast cast)
{
    /// <summary>An answer never needs to be larger than this to say what is wrong: input is not echoed.</summary>
    public const int MaxProblemBytes = 4096;

    public int Sent { get; private set; }

    public int Refused { get; private set; }

    public int ServerErrors { get; private set; }

    public List<string> Failures { get; } = [];

    public async Task RunAsync(IEnumerable<Probe> probes)
    {
        foreach (var probe in probes)
        {
            using var request = probe.ToRequest();
            using var response = await cast[probe.Caller].SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Sent++;
            Refused += (int)response.StatusCode is >= 400 and < 500 ? 1 : 0;
            ServerErrors += (int)response.StatusCode >= 500 ? 1 : 0;
            if (Check(probe, response, body) is { } failure)
            {
                Failures.Add($"{probe}: {failure}");
            }
        }
    }

    public string Summary(string name) => $"{name}: {Sent} requests, {Refused} refused with a 4xx problem, {ServerErrors} with a 5xx, {Failures.Count} not as expected";

    private static string? Check(Probe probe, HttpResponseMessage response, string body)
    {
        if (response.StatusCode != probe.Expected)
        {
            return $"expected {(int)probe.Expected}, got {(int)response.StatusCode}: {Clip(body)}";
        }

        if ((int)response.StatusCode < 400)
        {
            return null;
        }

        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"a {(int)response.StatusCode} as {response.Content.Headers.ContentType?.MediaType ?? "no body"}, not a problem";
        }

        if (Encoding.UTF8.GetByteCount(body) > MaxProblemBytes)
        {
            return $"a problem of {body.Length} characters (input echoed?)";
        }

        var problem = JsonDocument.Parse(body).RootElement;
        if (!problem.TryGetProperty("status", out var status) || status.GetInt32() != (int)response.StatusCode || !problem.TryGetProperty("title", out _))
        {
            return $"a problem without its status or title: {Clip(body)}";
        }

        if (response.StatusCode == HttpStatusCode.Unauthorized && !response.Headers.WwwAuthenticate.Any(h => h.Scheme == "Bearer"))
        {
            return "a 401 without WWW-Authenticate: Bearer";
        }

        if (probe.Field is not null && !(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(probe.Field, out _)))
        {
            return $"the problem does not name '{probe.Field}': {Clip(body)}";
        }

        return null;
    }

    private static string Clip(string text) => text.Length > 300 ? text[..300] + "…" : text;
}
