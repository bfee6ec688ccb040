using Billing.Contracts.Fleet;
using Billing.Ledger.Leases;
using Billing.Ledger.Meters;
using Billing.Ledger.Ops;
using Billing.Ledger.Partitions;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using JasperFx.Events.Projections;
using Marten;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Ledger;

public sealed class LedgerModule : IBillingModule
{
    public string Name => "ledger";

    public const string JobQueueName = "ledger";

    public IReadOnlyList<string> Routes { get; } =
        ["/v1/usage", "/v1/events", "/v1/meters", "/v1/ops/streams", "/v1/ops/projections", "/v1/ops/replay", "/v1/ops/jobs/ledger-"];

    public string JobQueue => JobQueueName;

    public bool RunsProjections => true;

    public void AddServices(WebApplicationBuilder builder)
    {
        builder.Services.AddLedgerDocuments();
        builder.Services.AddScoped<UsageReader>();
        builder.Services.AddScoped<UsageEnergy>();
        builder.AddMeters();
        builder.Services.AddSingleton<ReplayRunner>();
        builder.Services.AddSingleton(sp => new LedgerMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), TimeProvider.System));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReplayRunner>());
        builder.Services.AddSingleton(LedgerInstance.From(builder.Configuration));
        builder.Services.AddSingleton<LedgerBatchWriter>();
        builder.Services.AddSingleton<OrderedBatches>();
        builder.Services.AddHostedService<LedgerStandbyPartitions>();
        builder.Services.AddSingleton<ProjectionLag>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProjectionLag>());
        builder.Services.ConfigureMarten(options =>
        {
            options.Events.AddEventType<UsageRecorded>();
            options.Events.AddEventType<LeasePending>();
            options.Events.AddEventType<LeaseStarted>();
            options.Events.AddEventType<LeasePreemptionScheduled>();
            options.Events.AddEventType<LeaseEnded>();
            options.Events.AddEventType<LeaseNodeLeft>();
            options.Events.AddEventType<LeaseNodeReplaced>();
            options.Events.AddEventType<LeaseNodeJoined>();
        });
    }

    public void AddConsumers(IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<LedgerEntryConsumer, LedgerEntryConsumerDefinition>().ExcludeFromConfigureEndpoints();
    }

    public void ConfigureReceiveEndpoints(IBusRegistrationContext context, IRabbitMqBusFactoryConfigurator rabbit) =>
        LedgerPartitionEndpoints.ConfigureOwn(context, rabbit);

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapUsage();
        endpoints.MapMeters();
        endpoints.MapLedgerOps();
    }
}
