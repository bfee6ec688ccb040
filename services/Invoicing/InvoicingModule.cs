using Billing.Invoicing.Invoices;
using Billing.Invoicing.Jobs;
using Billing.ServiceDefaults;
using Hangfire;
using Hangfire.PostgreSql;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Invoicing;

public sealed class InvoicingModule : IBillingModule
{
    public string Name => "invoicing";

    public void AddServices(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.Configure<PriceBook>(configuration.GetSection(PriceBook.Section));
        services.AddSingleton<InvoiceDrafter>();
        services.AddTransient<DraftInvoicesJob>();
        services.ConfigureMarten(options =>
        {
            options.Events.AddEventType<InvoiceDrafted>();
            options.Schema.For<Invoice>().Index(i => i.TenantId).Index(i => i.Period);
            options.Projections.Snapshot<Invoice>(SnapshotLifecycle.Inline);
        });

        var schema = (configuration["Billing:Schema"] ?? "billing") + "_hangfire";
        services.AddHangfire(hangfire => hangfire
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(
                storage => storage.UseNpgsqlConnection(configuration.PostgresConnectionString()),
                new PostgreSqlStorageOptions { SchemaName = schema, QueuePollInterval = TimeSpan.FromSeconds(1), PrepareSchemaIfNecessary = true }));
        services.AddHangfireServer(o => o.WorkerCount = 2);
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapInvoices();
        endpoints.MapJobs();
    }
}
