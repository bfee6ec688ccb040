using Billing.Fleet;
using Billing.Invoicing;
using Billing.Ledger;
using Billing.ServiceDefaults;

namespace Billing.Host;

/// <summary>Which services this process runs (Billing:Services, comma-separated; default all of them).</summary>
public static class BillingModules
{
    private static readonly IReadOnlyList<IBillingModule> All = [new FleetModule(), new LedgerModule(), new InvoicingModule()];

    /// <summary>True when a process runs every module: the consoles read them all in-process, so only such a host serves them.</summary>
    public static bool AreAll(IReadOnlyList<IBillingModule> modules) => All.All(modules.Contains);

    public static IReadOnlyList<IBillingModule> Select(string? names)
    {
        if (string.IsNullOrWhiteSpace(names))
        {
            return All;
        }

        var wanted = names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = wanted.Except(All.Select(m => m.Name), StringComparer.OrdinalIgnoreCase).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"Billing:Services names unknown services: {string.Join(", ", unknown)}. Known: {string.Join(", ", All.Select(m => m.Name))}.");
        }

        return All.Where(m => wanted.Contains(m.Name, StringComparer.OrdinalIgnoreCase)).ToList();
    }
}
