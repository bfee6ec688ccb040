using Billing.NodeAgent.Api;
using Billing.NodeAgent.Leasing;

namespace Billing.NodeAgent.Demo;

/// <summary>One lease: what the agents' own heartbeats say it used, against what the API says; a cluster lease also node by node.</summary>
public sealed record LeaseCheck(string TenantName, Lease Lease, decimal? Expected, decimal UsageApi, IReadOnlyList<NodeCheck>? Nodes = null)
{
    public bool Matches => Expected is { } expected && expected == Lease.GpuSeconds && expected == UsageApi && (Nodes ?? []).All(n => n.Matches);
}

/// <summary>
/// One node's part of a cluster lease: the GPU-seconds its own acknowledged heartbeats imply over the
/// span the lease gives it, against the lease API and the usage API grouped by node; and that span's
/// ends are heartbeats the node really sent (it left at its last one, a replacement began at its first after joining).
/// </summary>
public sealed record NodeCheck(LeaseNode Part, decimal? Expected, decimal UsageApi, bool SpanFromHeartbeats)
{
    public bool Matches => Expected is { } expected && expected == Part.GpuSeconds && expected == UsageApi && SpanFromHeartbeats;
}

/// <summary>One tenant: expected, reported and invoiced GPU-seconds, which must all be equal.</summary>
public sealed record TenantCheck(
    TenantCreated Tenant,
    IReadOnlyList<LeaseCheck> Leases,
    Polled<UsageReport> Usage,
    IReadOnlyList<Invoice> Invoices)
{
    public decimal? Expected => Leases.All(l => l.Expected is not null) ? Leases.Sum(l => l.Expected!.Value) : null;

    public decimal UsageApi => Usage.Report.TotalGpuSeconds;

    public decimal Invoiced => Invoices.SelectMany(i => i.Lines).Where(l => l.IsUsage).Sum(l => l.GpuSeconds);

    public decimal InvoiceTotal => Invoices.Sum(i => i.Total);

    public string Currency => string.Join("/", Invoices.Select(i => i.Currency).Distinct().DefaultIfEmpty("-"));

    public bool Matches => Expected is { } expected && expected == UsageApi && expected == Invoiced && Leases.All(l => l.Matches);
}
