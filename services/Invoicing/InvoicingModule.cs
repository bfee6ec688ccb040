using Billing.Invoicing.Invoices;
using Billing.Invoicing.Jobs;
using Billing.ServiceDefaults;
using Hangfire;
using Billing.ServiceDefaults.Jobs;
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

    public string JobQueue => "invoicing";

    public void AddServices(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.Configure<PriceBook>(configuration.GetSection(PriceBook.Section));
        services.AddSingleton<InvoiceDrafter>();
        services.AddBillingJob<DraftInvoicesJob>(DraftInvoicesJob.Id, Cron.Minutely(), JobQueue);
        services.ConfigureMarten(options =>
        {
            options.Events.AddEventType<InvoiceDrafted>();
            options.Schema.For<Invoice>().Index(i => i.TenantId).Index(i => i.Period);
            options.Projections.Snapshot<Invoice>(SnapshotLifecycle.Inline);
        });

    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapInvoices();
    }
}
