using Billing.ServiceDefaults.Access;
using JasperFx.OpenTelemetry;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Billing.ServiceDefaults.Telemetry;

/// <summary>
/// Traces and metrics through OpenTelemetry: ASP.NET Core, HttpClient, Npgsql, and what MassTransit,
/// Orleans and Marten publish, so one heartbeat's trace runs from the request through the grains, the
/// group commit and the publish to the ledger's transaction. Metrics are scraped at <c>/metrics</c>
/// (ops keys); traces and metrics go out over OTLP only when an endpoint is configured, and spans are sampled only
/// then: spans nobody exports were a tenth of a heartbeat's allocations (a listener of its own, as a test's, still
/// gets every span).
/// </summary>
public static class BillingTelemetry
{
    /// <summary>Every meter and activity source of this platform's modules is named under this prefix.</summary>
    public const string Prefix = "Billing.";

    public const string MetricsPath = "/metrics";

    /// <summary>What the libraries publish: MassTransit's, Orleans' runtime and grain calls, Marten's.</summary>
    private static readonly string[] LibrarySources = ["MassTransit", "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Marten"];

    private static readonly string[] LibraryMeters = ["MassTransit", "Microsoft.Orleans", "Marten"];

    public static WebApplicationBuilder AddBillingTelemetry(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var exporting = Exporting(configuration);
        builder.Services.ConfigureMarten(o =>
        {
            o.OpenTelemetry.TrackConnections = TrackLevel.Normal;
            o.OpenTelemetry.TrackEventCounters();
        });
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(
                serviceName: configuration["OTEL_SERVICE_NAME"] ?? "billing",
                serviceInstanceId: configuration["Billing:Services"] ?? "fleet,ledger,invoicing"))
            .WithTracing(tracing => tracing
                .SetSampler(exporting ? new ParentBasedSampler(new AlwaysOnSampler()) : new AlwaysOffSampler())
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !IsOperational(http.Request.Path))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddSource(LibrarySources)
                .AddSource(Prefix + "*"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddMeter(LibraryMeters)
                .AddMeter(Prefix + "*")
                .AddPrometheusExporter());

        if (exporting)
        {
            telemetry.UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// Whether traces leave the process: the standard variable or setting (with OTEL_EXPORTER_OTLP_PROTOCOL, _HEADERS...)
    /// names an endpoint. Without it nothing leaves the process.
    /// </summary>
    public static bool Exporting(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>
    /// Whether grain calls carry the caller's trace and record spans of their own (Orleans' activity propagation):
    /// <c>Billing:Tracing:GrainCalls</c>, by default when traces are exported. Its call filters were a quarter of a
    /// heartbeat's allocations (41.5 to 31.3 KiB) even with nothing sampled.
    /// </summary>
    public static bool TracesGrainCalls(IConfiguration configuration) => configuration.GetValue("Billing:Tracing:GrainCalls", Exporting(configuration));

    /// <summary>The scrape endpoint, for ops keys only: it names tenants' SKUs and the fleet's shape.</summary>
    public static void MapBillingMetrics(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPrometheusScrapingEndpoint(MetricsPath).RequireAuthorization(Policies.Ops).DisableRateLimiting();

    /// <summary>Probes and scrapes would drown the traces that matter.</summary>
    private static bool IsOperational(Microsoft.AspNetCore.Http.PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments(MetricsPath);
}
