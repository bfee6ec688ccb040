using Billing.NodeAgent.Api;
using Billing.NodeAgent.Leasing;

namespace Billing.NodeAgent.Demo;

/// <summary>One lease: what the agents' own heartbeats say it used, against what the API says.</summary>
public sealed record LeaseCheck(string TenantName, Lease Lease, decimal? Expected, decimal UsageApi)
{
    public bool Matches => Expected is { } expected && expected == Lease.GpuSeconds && expected == UsageApi;
}

/// <summary>One tenant: expected, reported and invoiced GPU-seconds, which must all be equal.</summary>
public sealed record TenantCheck(
    TenantCreated Tenant,
    IReadOnlyList<LeaseCheck> Leases,
    UsageLedger.Reading Usage,
    IReadOnlyList<Invoice> Invoices)
{
    public decimal? Expected => Leases.All(l => l.Expected is not null) ? Leases.Sum(l => l.Expected!.Value) : null;

    public decimal UsageApi => Usage.Report.TotalGpuSeconds;

    public decimal Invoiced => Invoices.SelectMany(i => i.Lines).Where(l => l.IsUsage).Sum(l => l.GpuSeconds);

    public decimal InvoiceTotal => Invoices.Sum(i => i.Total);

    public string Currency => string.Join("/", Invoices.Select(i => i.Currency).Distinct().DefaultIfEmpty("-"));

    public bool Matches => Expected is { } expected && expected == UsageApi && expected == Invoiced && Leases.All(l => l.Matches);
}
