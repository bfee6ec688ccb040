using Billing.ServiceDefaults.Pricing;
using Billing.Invoicing.Audit;
using Billing.Invoicing.Commitments;
using Billing.Invoicing.Exports;
using Billing.Invoicing.Invoices;
using Billing.Invoicing.Jobs;
using Billing.Ledger;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Telemetry;
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

    // Every host serves Hangfire's dashboard (one storage for all); behind the gateway, invoicing's answers.
    public IReadOnlyList<string> Routes { get; } =
        ["/v1/invoices", "/v1/invoicing", "/v1/exports", "/v1/reconciliation", "/v1/commitments", "/v1/ops/invoices", "/v1/ops/jobs/invoicing-",
            OpsDashboards.HangfirePath];

    public string JobQueue => "invoicing";

    public void AddServices(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddLedgerDocuments(); // rating reads the ledger's hours and revisions
        services.Configure<InvoicingOptions>(configuration.GetSection(InvoicingOptions.Section));
        services.Configure<CommitmentOptions>(configuration.GetSection(CommitmentOptions.Section));
        services.AddSingleton<InvoicingMetrics>();
        services.AddSingleton<InvoiceDrafter>();
        services.AddScoped<InvoiceEnergy>();
        services.AddSingleton<InvoiceIssuer>();
        services.AddSingleton<MonthClose>();
        services.AddSingleton<InvoiceVerification>();
        services.AddSingleton<Reconciliation>();
        Billing.Ledger.Meters.MeterAudit.Add(services, configuration);
        services.AddBillingJob<DraftInvoicesJob>(DraftInvoicesJob.Id, Cron.Minutely(), JobQueue);
        services.AddBillingJob<ReconcileJob>(ReconcileJob.Id, Cron.Hourly(30), JobQueue);
        services.ConfigureMarten(options =>
        {
            options.Events.AddEventType<InvoiceDrafted>();
            options.Events.AddEventType<InvoiceFinalized>();
            options.Events.AddEventType<InvoiceIssued>();
            options.Events.AddEventType<InvoiceNumberAssigned>();
            // A snapshot, so taking the next number reads one document, not every number given this year.
            options.Projections.Snapshot<InvoiceNumberSequence>(SnapshotLifecycle.Inline);
            options.Schema.For<Invoice>().Index(i => i.TenantId).Index(i => i.Period);
            options.Schema.For<RatingCheckpoint>().UseOptimisticConcurrency(true).Index(c => c.InvoicePeriod);
            options.Schema.For<PriceCheckpoint>();
            options.Schema.For<ClosedPeriod>();
            options.Schema.For<RatingFailure>().Index(f => f.Period);
            options.Schema.For<InvoicingRun>().Index(r => r.StartedAt);
            options.Schema.For<ReconciliationRun>().Index(r => r.Period);
            options.Projections.Snapshot<Invoice>(SnapshotLifecycle.Inline);
            options.Events.AddEventType<CommitmentMade>();
            options.Schema.For<Commitment>().Index(c => c.TenantId);
            options.Projections.Snapshot<Commitment>(SnapshotLifecycle.Inline);
        });

    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapInvoices();
        endpoints.MapFocusExport();
        endpoints.MapCommitments();
        endpoints.MapAudit();
        endpoints.MapInvoicingRuns();
    }
}
