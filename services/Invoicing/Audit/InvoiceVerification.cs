using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Billing.Invoicing.Invoices;
using Marten;

namespace Billing.Invoicing.Audit;

/// <remarks>A meter line's difference names its group and tier, with its quantities.</remarks>
public sealed record LineDifference(
    string Sku, Charge Charge, decimal BilledGpuSeconds, decimal RecomputedGpuSeconds, decimal BilledAmount, decimal RecomputedAmount,
    string? Group = null, int? Tier = null, decimal BilledQuantity = 0, decimal RecomputedQuantity = 0);

public sealed record VerificationReport(
    Guid InvoiceId, InvoiceStatus Status, bool Equal, string StoredHash, string ReplayedHash, string BilledHash, string RecomputedHash, IReadOnlyList<LineDifference> Differences);

/// <summary>
/// Proves an invoice from its streams: replaying the invoice's own stream must give the stored
/// document, and rating the period from the usage, commitment and price streams must give what was
/// billed for it (its lines, plus adjustments for it on later invoices once it is issued).
/// </summary>
public sealed class InvoiceVerification(IDocumentStore store)
{
    public async Task<VerificationReport?> VerifyAsync(Guid invoiceId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var stored = await session.LoadAsync<Invoice>(invoiceId, cancellationToken);
        if (stored is null)
        {
            return null;
        }

        var replayed = await session.Events.AggregateStreamAsync<Invoice>(invoiceId, token: cancellationToken);
        var later = await session.Query<Invoice>().Where(i => i.TenantId == stored.TenantId && i.Period.CompareTo(stored.Period) > 0).ToListAsync(cancellationToken);
        var billed = InvoiceRecomputation.BilledFor(stored.Period, stored, later);
        var recomputed = (await InvoiceRecomputation.InputsAsync(session, stored.Period, stored.TenantId, cancellationToken)).Lines(stored.TenantId);
        var differences = Compare(billed, recomputed);
        var storedHash = Hash(stored.Lines, stored.Total);
        var replayedHash = replayed is null ? "" : Hash(replayed.Lines, replayed.Total);
        return new VerificationReport(invoiceId, stored.Status, storedHash == replayedHash && differences.Count == 0,
            storedHash, replayedHash, Hash(billed, Rating.Total(billed)), Hash(recomputed, Rating.Total(recomputed)), differences);
    }

    public static IReadOnlyList<LineDifference> Compare(IReadOnlyList<InvoiceLine> billed, IReadOnlyList<InvoiceLine> recomputed)
    {
        var b = billed.ToDictionary(l => (l.Sku, l.Charge, l.Metered?.Group, l.Metered?.Tier));
        var r = recomputed.ToDictionary(l => (l.Sku, l.Charge, l.Metered?.Group, l.Metered?.Tier));
        return b.Keys.Union(r.Keys)
            .Select(k => new LineDifference(k.Sku, k.Charge, b.GetValueOrDefault(k)?.GpuSeconds ?? 0, r.GetValueOrDefault(k)?.GpuSeconds ?? 0,
                b.GetValueOrDefault(k)?.Amount ?? 0, r.GetValueOrDefault(k)?.Amount ?? 0, k.Group, k.Tier,
                b.GetValueOrDefault(k)?.Metered?.Quantity ?? 0, r.GetValueOrDefault(k)?.Metered?.Quantity ?? 0))
            .Where(d => d.BilledGpuSeconds != d.RecomputedGpuSeconds || d.BilledAmount != d.RecomputedAmount || d.BilledQuantity != d.RecomputedQuantity)
            .OrderBy(d => d.Sku, StringComparer.Ordinal).ThenBy(d => d.Charge)
            .ToList();
    }

    /// <summary>SHA-256 of the lines' SKU, charge, period, quantity and amount (sorted, exact decimals) and the total; unit prices are derived, so left out.</summary>
    public static string Hash(IEnumerable<InvoiceLine> lines, decimal total)
    {
        var canonical = new StringBuilder();
        foreach (var l in lines.OrderBy(l => l.Sku, StringComparer.Ordinal).ThenBy(l => l.Charge).ThenBy(l => l.AdjustsPeriod, StringComparer.Ordinal)
            .ThenBy(l => l.Metered?.Group, StringComparer.Ordinal).ThenBy(l => l.Metered?.Tier))
        {
            canonical.Append(CultureInfo.InvariantCulture, $"{l.Sku}|{l.Charge}|{l.AdjustsPeriod}|{l.GpuSeconds:0.############}|{l.Amount:0.############}");
            if (l.Metered is { } metered)
            {
                canonical.Append(CultureInfo.InvariantCulture, $"|{metered.Group}|{metered.Tier}|{metered.Quantity:0.############}");
            }

            canonical.Append('\n');
        }

        canonical.Append(CultureInfo.InvariantCulture, $"total|{total:0.############}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
    }
}
