using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Models;

/// <summary>One tenant's model: tokens the gateway reported, the usage API and the invoices show; what it owes by the published prices and what was invoiced.</summary>
public sealed record ModelRow(string Model, decimal Expected, decimal UsageApi, decimal Invoiced, decimal ExpectedAmount, decimal InvoicedAmount)
{
    public bool Matches => Expected == UsageApi && Expected == Invoiced && ExpectedAmount == InvoicedAmount;
}

/// <summary>
/// One tenant's token usage: per model, and line by line (group × tier: quantity and amount) the
/// gateway's own figures against the invoices' metered lines.
/// </summary>
public sealed record ModelCheck(string TenantName, IReadOnlyList<ModelRow> Rows, IReadOnlyList<ExpectedTierLine> Expected, IReadOnlyList<ExpectedTierLine> Invoiced)
{
    public bool Matches => Rows.All(r => r.Matches) && Expected.SequenceEqual(Invoiced);

    public static ModelCheck Of(
        string tenantName, IReadOnlyDictionary<string, decimal> reported, MeterUsageReport usageByModel, IReadOnlyList<Invoice> invoices, MeterPriceList prices,
        int minorUnitDigits)
    {
        var expected = TokenCharges.Lines(reported, prices, minorUnitDigits);
        var invoiced = InvoicedLines(invoices, prices.Meter);
        var models = reported.Keys.Concat(invoiced.Select(l => l.Group)).Select(ModelOf)
            .Concat(usageByModel.Buckets.Select(b => b.Key)).Distinct().Order(StringComparer.Ordinal);
        var rows = models.Select(m => new ModelRow(
            m,
            reported.Where(g => ModelOf(g.Key) == m).Sum(g => g.Value),
            usageByModel.Buckets.Where(b => b.Key == m).Sum(b => b.Quantity),
            invoiced.Where(l => ModelOf(l.Group) == m).Sum(l => l.Quantity),
            expected.Where(l => ModelOf(l.Group) == m).Sum(l => l.Amount),
            invoiced.Where(l => ModelOf(l.Group) == m).Sum(l => l.Amount))).ToList();
        return new ModelCheck(tenantName, rows, expected, invoiced);
    }

    /// <summary>The invoices' lines of the meter, per group and tier (an adjustment adds to its month's line).</summary>
    public static IReadOnlyList<ExpectedTierLine> InvoicedLines(IReadOnlyList<Invoice> invoices, string meter) =>
        invoices.SelectMany(i => i.Lines).Where(l => l.Metered?.Meter == meter)
            .GroupBy(l => (l.Metered!.Group, l.Metered.Tier))
            .Select(g => new ExpectedTierLine(g.Key.Group, g.Key.Tier, g.Sum(l => l.Metered!.Quantity), g.Sum(l => l.Amount)))
            .OrderBy(l => l.Group, StringComparer.Ordinal).ThenBy(l => l.Tier)
            .ToList();

    /// <summary>The model of a group named as the price book names it (<c>model=big-chat,tokenType=input</c>).</summary>
    public static string ModelOf(string group) =>
        group.Split(',').Select(p => p.Split('=', 2)).FirstOrDefault(p => p is ["model", _])?[1] ?? group;
}
