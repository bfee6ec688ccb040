using System.Diagnostics.Metrics;
using Billing.ServiceDefaults.Telemetry;

namespace Billing.Invoicing;

/// <summary>Invoices drafted (a new or changed draft committed) and issued (numbered), counted once committed.</summary>
public sealed class InvoicingMetrics
{
    public const string MeterName = BillingTelemetry.Prefix + "Invoicing";

    private readonly Counter<long> drafted;
    private readonly Counter<long> issued;

    public InvoicingMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        drafted = meter.CreateCounter<long>("billing.invoicing.invoices.drafted", "{invoice}", "Drafts written: new invoices and re-rated drafts.");
        issued = meter.CreateCounter<long>("billing.invoicing.invoices.issued", "{invoice}", "Invoices finalized and numbered.");
    }

    public void Drafted() => drafted.Add(1);

    public void Issued(int invoices) => issued.Add(invoices);
}
