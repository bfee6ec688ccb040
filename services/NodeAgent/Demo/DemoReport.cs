using System.Globalization;
using Billing.NodeAgent.Models;

namespace Billing.NodeAgent.Demo;

/// <summary>Prints the demo's verdict: a line per lease, the table per tenant, then the tenants' token usage per model.</summary>
public static class DemoReport
{
    public static void Print(IReadOnlyList<TenantCheck> tenants, IReadOnlyList<ModelCheck> models, GatewayStats gateway, TextWriter output)
    {
        var name = tenants.Max(t => t.Tenant.Name.Length);
        var node = Math.Max(4, tenants.SelectMany(t => t.Leases).Select(l => l.Lease.NodeId.Length).DefaultIfEmpty(0).Max());
        output.WriteLine();
        output.WriteLine("Leases (GPU-seconds)");
        output.WriteLine($"  {"tenant".PadRight(name)} {"lease",-36} {"node".PadRight(node)} {"gpus",4} {"pricing",-8} {"expected",14} {"lease API",14} {"usage API",14}  result");
        foreach (var tenant in tenants)
        {
            foreach (var check in tenant.Leases)
            {
                var lease = check.Lease;
                var where = lease.Nodes is { Count: > 1 } parts ? $"{parts.Count} nodes" : lease.NodeId;
                output.WriteLine($"  {check.TenantName.PadRight(name)} {lease.LeaseId,-36} {where.PadRight(node)} {Math.Max(lease.GpuCount, lease.GpuIndices.Count),4} {lease.Pricing,-8} " +
                    $"{Number(check.Expected),14} {Number(lease.GpuSeconds),14} {Number(check.UsageApi),14}  {Verdict(check.Matches)}");
            }
        }

        foreach (var check in tenants.SelectMany(t => t.Leases).Where(l => l.Nodes is not null))
        {
            PrintNodes(check, output);
        }

        output.WriteLine();
        output.WriteLine("Tenants (GPU-seconds)");
        output.WriteLine($"  {"tenant".PadRight(name)} {"expected",14} {"usage API",14} {"invoiced",14} {"invoice total",20}  result");
        foreach (var tenant in tenants)
        {
            var total = tenant.Invoices.Count == 0 ? "no invoice" : $"{tenant.InvoiceTotal.ToString(CultureInfo.InvariantCulture)} {tenant.Currency}";
            output.WriteLine($"  {tenant.Tenant.Name.PadRight(name)} {Number(tenant.Expected),14} {Number(tenant.UsageApi),14} {Number(tenant.Invoiced),14} {total,20}  {Verdict(tenant.Matches)}");
        }

        PrintModels(models, gateway, output);
        output.WriteLine();
        output.WriteLine(tenants.All(t => t.Matches) && models.All(m => m.Matches) && gateway.Unexpected == 0
            ? "MATCH: every lease, tenant and model agrees across the agents' heartbeats, the model gateway's own counts, the usage API and the invoices."
            : "MISMATCH: see the rows marked above.");
    }

    private static void PrintNodes(LeaseCheck check, TextWriter output)
    {
        var node = Math.Max(4, check.Nodes!.Max(n => n.Part.NodeId.Length));
        output.WriteLine();
        output.WriteLine($"Cluster lease {check.Lease.LeaseId}, node by node (GPU-seconds; times UTC)");
        output.WriteLine($"  {"node".PadRight(node)} {"state",-8} {"joined",-8} {"accrues",-8} {"left",-8} {"expected",14} {"lease API",14} {"usage API",14}  result");
        foreach (var n in check.Nodes!)
        {
            output.WriteLine($"  {n.Part.NodeId.PadRight(node)} {n.Part.State,-8} {Time(n.Part.JoinedAt),-8} {Time(n.Part.AccruesFrom),-8} {Time(n.Part.LeftAt),-8} " +
                $"{Number(n.Expected),14} {Number(n.Part.GpuSeconds),14} {Number(n.UsageApi),14}  {Verdict(n.Matches)}");
        }
    }

    private static void PrintModels(IReadOnlyList<ModelCheck> models, GatewayStats gateway, TextWriter output)
    {
        if (models.Count == 0)
        {
            return;
        }

        var name = models.Max(m => m.TenantName.Length);
        var model = Math.Max(5, models.SelectMany(m => m.Rows).Max(r => r.Model.Length));
        output.WriteLine();
        output.WriteLine($"Model usage (tokens; amounts by the published prices, tiers split exactly, rounded once per line); gateway: {Verdict(gateway.Unexpected == 0)} {gateway}");
        output.WriteLine($"  {"tenant".PadRight(name)} {"model".PadRight(model)} {"gateway",14} {"usage API",14} {"invoiced",14} {"expected amount",16} {"invoiced amount",16}  result");
        foreach (var check in models)
        {
            foreach (var row in check.Rows)
            {
                output.WriteLine($"  {check.TenantName.PadRight(name)} {row.Model.PadRight(model)} {Tokens(row.Expected),14} {Tokens(row.UsageApi),14} {Tokens(row.Invoiced),14} " +
                    $"{Money(row.ExpectedAmount),16} {Money(row.InvoicedAmount),16}  {Verdict(row.Matches)}");
            }

            var lines = check.Expected.SequenceEqual(check.Invoiced)
                ? $"{check.Expected.Count} invoice lines (group × tier) equal the gateway's own, quantity and amount"
                : $"invoice lines differ: expected {string.Join("; ", check.Expected)}, invoiced {string.Join("; ", check.Invoiced)}";
            output.WriteLine($"  {check.TenantName.PadRight(name)} {"all".PadRight(model)} {lines}  {Verdict(check.Matches)}");
        }
    }

    private static string Tokens(decimal value) => value.ToString("0.############", CultureInfo.InvariantCulture);

    // Cents always; any digit beyond them is shown, since it would be a discrepancy.
    private static string Money(decimal value) => value.ToString("0.00##########", CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset? at) => at?.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture) ?? "-";

    // Three decimals are milliseconds; any digit beyond them is shown, since it would be a discrepancy.
    private static string Number(decimal? value) => value?.ToString("0.000#########", CultureInfo.InvariantCulture) ?? "n/a";

    private static string Verdict(bool matches) => matches ? "MATCH" : "MISMATCH";
}
