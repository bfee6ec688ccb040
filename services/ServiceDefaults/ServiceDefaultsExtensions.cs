using System.Text.Json.Serialization;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Idempotency;
using Billing.ServiceDefaults.Jobs;
using Billing.ServiceDefaults.Messaging;
using Billing.ServiceDefaults.OpenApi;
using Billing.ServiceDefaults.Pricing;
using Billing.ServiceDefaults.RateLimiting;
using Billing.ServiceDefaults.Telemetry;
using Billing.ServiceDefaults.Validation;
using FluentValidation;
using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using Marten;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
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
        services.AddSingleton<IProblemDetailsWriter, JsonProblemWriter>();
        services.AddProblemDetails();
        services.AddExceptionHandler<OutageExceptionHandler>();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(allowIntegerValues: false));
            o.SerializerOptions.Converters.Add(new Rfc3339Converter());
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip;
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        // A rule stops at its first failure: later checks in a chain may assume the earlier ones held.
        ValidatorOptions.Global.DefaultRuleLevelCascadeMode = CascadeMode.Stop;
        // A validator builds its rules when constructed: one that needs no request-scoped service (the heartbeat's,
        // on the hottest path) is built once; those reading the database are built per request.
        var assemblies = modules.Select(m => m.GetType().Assembly).Append(typeof(ServiceDefaultsExtensions).Assembly).Distinct().ToList();
        services.AddValidatorsFromAssemblies(assemblies, ServiceLifetime.Singleton, v => NeedsNoServices(v.ValidatorType));
        services.AddValidatorsFromAssemblies(assemblies, ServiceLifetime.Scoped, v => !NeedsNoServices(v.ValidatorType));
        services.AddMemoryCache();
        services.AddSingleton<KeyIssuer>();
        builder.AddApiKeyAuthentication();
        services.AddAuthorization(Policies.Add);
        services.AddKeyRateLimiting(configuration);
        services.AddIdempotencyKeys();
        services.AddBillingOpenApi();
        builder.AddBillingTelemetry();
        services.AddBillingHealthChecks(configuration);

        services.AddBillingDataSource(configuration);
        services.AddMarten(sp =>
            {
                var options = BillingMarten.Options(sp.GetRequiredService<NpgsqlDataSource>(), configuration["Billing:Schema"] ?? "billing");
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

        services.AddSingleton<LedgerQueues>();
        services.AddSingleton<LedgerRouter>();
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
                rabbit.Host(new Uri(configuration.RabbitMqConnectionString()));
                foreach (var module in modules)
                {
                    module.ConfigureReceiveEndpoints(context, rabbit);
                }

                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }

    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        app.UseExceptionHandler();
        // A bare status code (404, 405, ...) gets a problem body too, whatever the Accept header.
        app.UseStatusCodePages(context => Results.Problem(statusCode: context.HttpContext.Response.StatusCode).ExecuteAsync(context.HttpContext));
        app.UseBodyLimits();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseIdempotencyKeys();
        app.MapGet("/health", () => Results.Ok(new { status = "ok" })).AllowAnonymous().DisableRateLimiting();
        app.MapBillingOpenApi();
        app.MapBillingHealth();
        app.MapBillingMetrics();
        app.MapHangfireForOps();
        var api = app.MapGroup("").WithRequestValidation();
        app.MapBillingJobs(api);
        foreach (var module in app.Services.GetRequiredService<IReadOnlyList<IBillingModule>>())
        {
            module.MapEndpoints(api);
        }

        return app;
    }

    public static string PostgresConnectionString(this IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres") ?? "Host=127.0.0.1;Port=55432;Database=billing;Username=billing;Password=billing";

    public static string RabbitMqConnectionString(this IConfiguration configuration) =>
        configuration.GetConnectionString("RabbitMq") ?? "amqp://guest:guest@127.0.0.1:55672/";

    private static bool NeedsNoServices(Type validator) => validator.GetConstructors().All(c => c.GetParameters().Length == 0);

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider) && Equals(d.ServiceKey, BillingClock.Key)))
        {
            services.AddKeyedSingleton(BillingClock.Key, TimeProvider.System);
        }
    }
}
