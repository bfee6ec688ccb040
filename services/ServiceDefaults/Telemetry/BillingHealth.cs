using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Billing.ServiceDefaults.Telemetry;

/// <summary>
/// <c>/health/live</c>: the process answers. <c>/health/ready</c>: what it needs answers too (PostgreSQL,
/// RabbitMQ, and whatever a module adds with the <see cref="Ready"/> tag: the silo, Redis membership).
/// Both anonymous, as probes are; they name each check and its status, never an error's text.
/// </summary>
public static class BillingHealth
{
    public const string Ready = "ready";

    internal static void AddBillingHealthChecks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(_ => new RabbitProbe(new Uri(configuration.RabbitMqConnectionString())));
        services.AddHealthChecks()
            .AddNpgSql(configuration.PostgresConnectionString(), name: "postgres", tags: [Ready], timeout: TimeSpan.FromSeconds(5))
            .AddRabbitMQ(sp => sp.GetRequiredService<RabbitProbe>().ConnectionAsync(), name: "rabbitmq", tags: [Ready], timeout: TimeSpan.FromSeconds(5));
    }

    internal static void MapBillingHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .AllowAnonymous().DisableRateLimiting();
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteAsync })
            .AllowAnonymous().DisableRateLimiting();
    }

    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(http.Response.Body, new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString()),
        }, cancellationToken: http.RequestAborted);
    }
}
