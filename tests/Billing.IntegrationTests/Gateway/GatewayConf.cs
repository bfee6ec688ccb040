using System.Text;
using System.Text.RegularExpressions;
using Billing.ServiceDefaults;

namespace Billing.IntegrationTests.Gateway;

/// <summary>
/// infra/docker/gateway.conf (nginx): written from the modules' <see cref="IBillingModule.Routes"/>, and read
/// back to answer where nginx sends a path (an exact location first, else the longest matching prefix).
/// </summary>
public sealed partial class GatewayConf
{
    /// <summary>What the gateway answers itself rather than passing to a service.</summary>
    public const string Itself = "(gateway)";

    private readonly List<(bool Exact, string Path, string Target)> locations;

    private GatewayConf(List<(bool Exact, string Path, string Target)> locations) => this.locations = locations;

    public static string PathInRepository => Path.Combine(Repository.Root, "infra", "docker", "gateway.conf");

    public IEnumerable<string> Upstreams => locations.Select(l => l.Target).Where(t => t != Itself).Distinct();

    public static GatewayConf Read() => Parse(File.ReadAllText(PathInRepository));

    public static GatewayConf Parse(string text) =>
        new(text.Split('\n').Select(line => Location().Match(line)).Where(m => m.Success).Select(m => (
            m.Groups["exact"].Success,
            m.Groups["path"].Value,
            ProxyPass().Match(m.Groups["body"].Value) is { Success: true } pass ? pass.Groups["upstream"].Value : Itself)).ToList());

    /// <summary>The upstream nginx passes this path to, or <see cref="Itself"/>.</summary>
    public string Route(string path) =>
        locations.FirstOrDefault(l => l.Exact && l.Path == path).Target
        ?? locations.Where(l => !l.Exact && path.StartsWith(l.Path, StringComparison.Ordinal)).MaxBy(l => l.Path.Length).Target
        ?? throw new InvalidOperationException($"No location of gateway.conf matches {path}.");

    public static string Render(IEnumerable<IBillingModule> modules)
    {
        var text = new StringBuilder("""
            # The one public base URL: each path goes to the service that owns it. GENERATED from each module's
            # IBillingModule.Routes; regenerate, do not edit:
            #   BILLING_WRITE_GATEWAY_CONF=1 dotnet test tests/Billing.IntegrationTests --filter Routing_through_the_gateway

            """);
        foreach (var module in modules)
        {
            text.Append($"upstream {module.Name} {{ server {module.Name}:8080; keepalive 16; }}\n");
        }

        text.Append("""

            server {
              listen 8080;
              client_max_body_size 1m;
              proxy_http_version 1.1;
              proxy_set_header Connection "";
              proxy_set_header Host $host;
              proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
              proxy_set_header X-Forwarded-Proto $scheme;
              error_page 413 @too_large;
              error_page 502 504 =503 @unavailable;

            """);
        foreach (var module in modules)
        {
            foreach (var route in module.Routes)
            {
                text.Append($"  location {route} {{ proxy_pass http://{module.Name}; }}\n");
            }
        }

        text.Append("""

              # Answered here: the gateway's liveness (it starts once every service is healthy), and problem
              # bodies for a path no service owns, a body too large, or a service that does not answer.
              location = /health { default_type application/json; return 200 '{"status":"ok"}'; }
              location / { default_type application/problem+json; return 404 '{"title":"Not Found","status":404,"detail":"No service serves this path."}'; }
              location @too_large { default_type application/problem+json; return 413 '{"title":"Payload Too Large","status":413}'; }
              location @unavailable { default_type application/problem+json; add_header Retry-After 5 always; return 503 '{"title":"Temporarily unavailable","status":503}'; }
            }

            """);
        return text.ToString();
    }

    [GeneratedRegex(@"^\s*location\s+(?:(?<exact>=)\s+)?(?<path>/\S*)\s*\{(?<body>.*)\}\s*$")]
    private static partial Regex Location();

    [GeneratedRegex(@"proxy_pass\s+http://(?<upstream>[\w-]+)\s*;")]
    private static partial Regex ProxyPass();
}
