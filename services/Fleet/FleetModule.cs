using Billing.ServiceDefaults.Pricing;
using Billing.Fleet.Heartbeats;
using Billing.Fleet.Leases;
using Billing.Fleet.Messaging;
using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;
using Billing.Fleet.Placement;
using Billing.Fleet.Pricing;
using Billing.Fleet.Telemetry;
using Billing.Contracts.Fleet;
using Billing.ServiceDefaults.Jobs;
using JasperFx.Events.Projections;
using Marten.Events.Projections;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.GpuEnergy;
using Billing.ServiceDefaults.Telemetry;
using Orleans.Dashboard;
using Orleans.Runtime;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Billing.Fleet;

public sealed class FleetModule : IBillingModule
{
    public string Name => "fleet";

    // Access (tenants, keys) and prices are mapped here: one service owns each path behind the gateway.
    public IReadOnlyList<string> Routes { get; } =
        ["/v1/nodes", "/v1/leases", "/v1/fabrics", "/v1/prices", "/v1/tenants", "/v1/keys", "/v1/ops/jobs/fleet-", "/v1/ops/idle-gpus", OrleansDashboardPath];

    /// <summary>The silo's dashboard (grains, calls, silos), for ops keys.</summary>
    public const string OrleansDashboardPath = "/ops/orleans";

    public string JobQueue => "fleet";

    /// <summary>A grain call to a silo that died (its grains come back on another within seconds) is an outage, not a fault.</summary>
    public static OutageKind SiloOutage { get; } = new(e => e is OrleansMessageRejectionException);

    public void AddServices(WebApplicationBuilder builder)
    {
        builder.Services.AddFleetServices(builder.Configuration);
        builder.Services.AddSingleton(SiloOutage);
        builder.Services.AddSingleton<BusFleetOutbox>();
        builder.Services.AddSingleton<IFleetOutbox>(sp => sp.GetRequiredService<BusFleetOutbox>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BusFleetOutbox>());
        builder.Services.AddBillingJob<SpotPriceJob>(SpotPriceJob.Id, "*/5 * * * *", JobQueue);
        builder.Services.AddBillingJob<FleetMaintenanceJob>(FleetMaintenanceJob.Id, "* * * * *", JobQueue);
        builder.Services.AddBillingJob<HeartbeatRetentionJob>(HeartbeatRetentionJob.Id, "17 3 * * *", JobQueue);
        builder.UseOrleans(silo => silo.ConfigureFleetSilo(builder.Configuration).AddDashboard());
        var health = builder.Services.AddHealthChecks().AddCheck<SiloHealthCheck>("orleans-silo", tags: [BillingHealth.Ready]);
        if (FleetServices.UsesRedisClustering(builder.Configuration))
        {
            health.AddRedis(FleetServices.RedisConnectionString(builder.Configuration), name: "redis", tags: [BillingHealth.Ready], timeout: TimeSpan.FromSeconds(5));
        }
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapAccess();
        endpoints.MapNodes();
        endpoints.MapHeartbeats();
        endpoints.MapLeases();
        endpoints.MapFabrics();
        endpoints.MapPrices();
        endpoints.MapTelemetry();
        // Its pages and data calls are a vendor's UI, not this API: the README lists the dashboard, not each of its routes.
        endpoints.MapOrleansDashboard(OrleansDashboardPath).RequireAuthorization(Policies.Ops).ExcludeFromDescription();
    }
}

public static class FleetServices
{
    /// <summary>What the fleet's grains need but the outbox (the host adds the bus one, a test silo its own).</summary>
    public static IServiceCollection AddFleetServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<FleetMetrics>();
        services.AddLeaseEnergyReader(configuration);
        services.Configure<LeaseOptions>(configuration.GetSection(LeaseOptions.Section));
        services.Configure<SpotPricingOptions>(configuration.GetSection(SpotPricingOptions.Section));
        services.AddSingleton(sp => new PostgresHeartbeatLog(
            sp.GetRequiredService<NpgsqlDataSource>(), configuration["Billing:Schema"] ?? "billing", sp.GetRequiredService<ILogger<PostgresHeartbeatLog>>()));
        services.AddSingleton<IHeartbeatLog>(sp => sp.GetRequiredService<PostgresHeartbeatLog>());
        services.AddHostedService(sp => sp.GetRequiredService<PostgresHeartbeatLog>());
        services.ConfigureMarten(options =>
        {
            options.Schema.For<NodeRegistration>().Identity(n => n.Id).Index(n => n.Sku);
            options.Schema.For<LeaseRecord>().Index(l => l.NodeId).Index(l => l.TenantId);
            options.Events.AddEventType<SpotTicked>();
            options.Events.AddEventType<SpotPriceChanged>();
            options.Projections.Snapshot<SpotMarket>(SnapshotLifecycle.Inline);
        });
        return services;
    }

    /// <summary>
    /// The metering options, the data source and the telemetry reader, as <see cref="ILeaseEnergyReader"/> too (a
    /// PostgreSQL read of the shared database): the host adds them whichever modules it runs, so a ledger or
    /// invoicing host without the fleet reads energy by the fleet's rule. Adding them twice adds nothing.
    /// </summary>
    public static IServiceCollection AddLeaseEnergyReader(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(s => s.ServiceType == typeof(ILeaseEnergyReader)))
        {
            return services;
        }

        services.Configure<MeteringOptions>(configuration.GetSection(MeteringOptions.Section));
        services.Configure<TelemetryOptions>(configuration.GetSection(TelemetryOptions.Section));
        services.AddBillingDataSource(configuration);
        services.AddSingleton(sp => new GpuTelemetryStore(sp.GetRequiredService<NpgsqlDataSource>(), configuration["Billing:Schema"] ?? "billing"));
        services.AddSingleton<LeaseTelemetryReader>();
        services.AddSingleton<ILeaseEnergyReader>(sp => sp.GetRequiredService<LeaseTelemetryReader>());
        return services;
    }

    /// <summary>
    /// Localhost clustering for one machine; Redis membership (Silo:Clustering=Redis) for a cluster
    /// of silos, each bound to the address and ports it is given.
    /// </summary>
    public static ISiloBuilder ConfigureFleetSilo(this ISiloBuilder silo, IConfiguration configuration)
    {
        var siloPort = configuration.GetValue("Silo:SiloPort", 11111);
        var gatewayPort = configuration.GetValue("Silo:GatewayPort", 30000);
        var clusterId = configuration["Silo:ClusterId"] ?? "billing";
        // Grain calls carry the caller's trace, so a heartbeat's trace holds its grain calls.
        if (BillingTelemetry.TracesGrainCalls(configuration))
        {
            silo.AddActivityPropagation();
        }

        if (UsesRedisClustering(configuration))
        {
            silo.UseRedisClustering(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(RedisConnectionString(configuration)));
            if (configuration["Silo:AdvertisedHost"] is { Length: > 0 } host)
            {
                // In a container: advertise the host name's address, listen on every interface.
                silo.ConfigureEndpoints(host, siloPort, gatewayPort, System.Net.Sockets.AddressFamily.InterNetwork, listenOnAnyHostAddress: true);
            }
            else
            {
                // Otherwise the silo would advertise the machine's external address.
                silo.ConfigureEndpoints(System.Net.IPAddress.Loopback, siloPort, gatewayPort, listenOnAnyHostAddress: false);
            }
        }
        else
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: "billing", clusterId: clusterId);
        }

        silo.Configure<Orleans.Configuration.ClusterOptions>(o =>
        {
            o.ClusterId = clusterId;
            o.ServiceId = "billing";
        });
        return silo;
    }

    internal static bool UsesRedisClustering(IConfiguration configuration) =>
        string.Equals(configuration["Silo:Clustering"], "Redis", StringComparison.OrdinalIgnoreCase);

    internal static string RedisConnectionString(IConfiguration configuration) => configuration.GetConnectionString("Redis") ?? "127.0.0.1:56379";
}
