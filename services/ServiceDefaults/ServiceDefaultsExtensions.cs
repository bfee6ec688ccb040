using System.Text.Json.Serialization;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Jobs;
using Billing.ServiceDefaults.Pricing;
using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using Marten;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Weasel.Core;

namespace Billing.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    /// <summary>Adds what every service shares, then each module's own services and consumers.</summary>
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder, IReadOnlyList<IBillingModule> modules)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddSingleton(modules);
        services.TryAddTimeProvider();
        services.AddProblemDetails();
        services.AddExceptionHandler<OutageExceptionHandler>();
        services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip;
        });
        services.AddMemoryCache();
        services.AddSingleton<KeyIssuer>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, o =>
                o.OpsKey = configuration["Billing:OpsKey"] ?? throw new InvalidOperationException("Billing:OpsKey is not configured."));
        services.AddAuthorization(Policies.Add);

        services.AddMarten(sp =>
            {
                var options = BillingMarten.Options(configuration.PostgresConnectionString(), configuration["Billing:Schema"] ?? "billing");
                options.Logger(new MartenCommandLog(sp.GetRequiredService<ILogger<IDocumentStore>>()));
                return options;
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup()
            .AddAsyncDaemon(modules.Any(m => m.RunsProjections)
                ? Enum.Parse<DaemonMode>(configuration["Billing:ProjectionDaemon"] ?? nameof(DaemonMode.Solo))
                : DaemonMode.Disabled);

        services.AddHangfireStorage(configuration, modules.Select(m => m.JobQueue).OfType<string>());
        services.Configure<PriceBook>(configuration.GetSection(PriceBook.Section));
        services.AddHostedService<PriceBookVersions>();
        services.ConfigureMarten(o => o.Events.AddEventType<PriceBookChanged>());
        foreach (var module in modules)
        {
            module.AddServices(builder);
        }

        services.AddMassTransit(bus =>
        {
            bus.DisableUsageTelemetry(); // a billing system does not report to MassTransit's vendor
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(configuration["Billing:QueuePrefix"] ?? "billing", false));
            foreach (var module in modules)
            {
                module.AddConsumers(bus);
            }

            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(new Uri(configuration.GetConnectionString("RabbitMq") ?? "amqp://guest:guest@127.0.0.1:55672/"));
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }

    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/health", () => Results.Ok(new { status = "ok" })).AllowAnonymous();
        app.MapBillingJobs();
        foreach (var module in app.Services.GetRequiredService<IReadOnlyList<IBillingModule>>())
        {
            module.MapEndpoints(app);
        }

        return app;
    }

    public static string PostgresConnectionString(this IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres") ?? "Host=127.0.0.1;Port=55432;Database=billing;Username=billing;Password=billing";

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider) && Equals(d.ServiceKey, BillingClock.Key)))
        {
            services.AddKeyedSingleton(BillingClock.Key, TimeProvider.System);
        }
    }
}
