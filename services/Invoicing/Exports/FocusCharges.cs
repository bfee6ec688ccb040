using Billing.Contracts;
using Billing.Invoicing.Audit;
using Billing.Invoicing.Commitments;
using Billing.Invoicing.Invoices;
using Billing.Invoicing.Meters;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Pricing;

namespace Billing.Invoicing.Exports;

/// <summary>
/// One FOCUS row's charge: a lease's (or a commitment's) usage of one UTC day under one charge at one
/// list and one contracted price per GPU-hour, with its share of the invoice line it belongs to.
/// </summary>
/// <remarks>
/// <see cref="Unused"/> marks the committed GPU-seconds of a day no reserved usage took. A charge
/// with neither lease nor commitment stands for a whole line whose usage could not be found again
/// (it spans <see cref="Start"/> to <see cref="End"/>, the rated month).
/// </remarks>
public sealed record FocusCharge(
    string Sku, Charge Charge, Guid? LeaseId, Commitment? Commitment, bool Unused, DateTimeOffset Start, DateTimeOffset End,
    decimal ListUnitPrice, decimal ContractedUnitPrice, decimal GpuSeconds, decimal BilledCost, decimal EffectiveCost, MeteredQuantity? Metered = null)
{
    /// <summary>GPU-hours; for a meter line, its quantity in the units its price is per (millions of tokens).</summary>
    public decimal PricingQuantity => Metered is { } metered ? metered.Quantity / metered.UnitsPerPrice : GpuSeconds / 3600m;

    public decimal ListCost => ListUnitPrice * PricingQuantity;

    public decimal ContractedCost => ContractedUnitPrice * PricingQuantity;

    internal (string, Charge, Guid?, Guid?, bool, DateTimeOffset, decimal, decimal) Key =>
        (Sku, Charge, LeaseId, Commitment?.Id, Unused, Start, ListUnitPrice, ContractedUnitPrice);
}

/// <summary>
/// Splits a tenant's rated period into <see cref="FocusCharge"/>s: per lease (or commitment), UTC day,
/// charge and price. Prices come from the same rating the invoice used (<see cref="Rating.Pieces"/>);
/// each line's rounded amount is shared out over its charges so that they add up to it exactly.
/// </summary>
/// <remarks>
/// Rating covers reserved usage per minute summed over the tenant's leases; a minute's covered
/// seconds are given to its leases in lease-id order and taken from its commitments in start, then
/// id order. A commitment-day's billed amount is its covered rows' and unused row's effective cost,
/// shared by GPU-seconds.
/// </remarks>
public static class FocusCharges
{
    public static IReadOnlyList<FocusCharge> Of(
        string period, IReadOnlyList<MeteredWindow> windows, IReadOnlyList<Commitment> commitments, IReadOnlyList<InvoiceLine> lines,
        PriceHistory prices, SpotPrices spot)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(prices);
        var (start, end) = BillingPeriod.Bounds(period);
        var digits = prices.At(start).MinorUnitDigits;
        var exact = Exact(windows, commitments, prices, spot, start, end);
        var billed = Billed(exact, [.. lines.Where(l => l.Metered is null)], digits, start, end);
        return Effective([.. billed, .. MeterCharges(lines, start, end)], digits);
    }

    /// <summary>A meter line as one charge for the month: its SKU names meter, group and tier, so every line stays a row of its own.</summary>
    private static IEnumerable<FocusCharge> MeterCharges(IEnumerable<InvoiceLine> lines, DateTimeOffset start, DateTimeOffset end) =>
        lines.Where(l => l.Metered is not null && l.Amount != 0).Select(l => new FocusCharge(
            $"{l.Sku}:{l.Metered!.Group}:tier-{l.Metered.Tier + 1}", Charge.Metered, null, null, false, start, end, l.UnitPrice, l.UnitPrice, 0, l.Amount, l.Amount,
            l.Metered));

    /// <summary>
    /// What an invoice's adjustment lines add to an issued period, per row: the usage that moved
    /// between the rating the issued invoice came from and the one the adjustment did, each line's
    /// amount shared over its moved rows by their exact amounts; a commitment's rows carry how its
    /// amortized cost moved. Rows that did not move are left out.
    /// </summary>
    public static IReadOnlyList<FocusCharge> Adjustment(FocusAdjusted adjusted, Invoice invoice, PriceHistory prices, SpotPrices spot)
    {
        ArgumentNullException.ThrowIfNull(adjusted);
        ArgumentNullException.ThrowIfNull(invoice);
        ArgumentNullException.ThrowIfNull(prices);
        var (start, end) = BillingPeriod.Bounds(adjusted.Period);
        var digits = prices.At(start).MinorUnitDigits;
        var all = invoice.Lines.Where(l => l.AdjustsPeriod == adjusted.Period).ToList();
        var lines = all.Where(l => l.Metered is null).ToList();
        var before = Of(adjusted.Period, adjusted.AsIssued.Windows, adjusted.AsIssued.Commitments, GpuLines(InvoiceRecomputation.BilledFor(adjusted.Period, adjusted.Issued, [])), prices, spot);
        var after = Of(adjusted.Period, adjusted.AsAdjusted.Windows, adjusted.AsAdjusted.Commitments, GpuLines(InvoiceRecomputation.BilledFor(adjusted.Period, adjusted.Issued, [invoice])), prices, spot);
        var moved = Difference(after, before);
        var billed = Billed(moved, lines, digits, start, end).Concat(MeterCharges(all, start, end));
        var amortized = moved.ToDictionary(c => c.Key, c => c.EffectiveCost);
        return Ordered(billed
            .Select(c => c with { EffectiveCost = c.Commitment is not null && (c.Charge == Charge.ReservedCovered || c.Unused) ? amortized[c.Key] : EffectiveOf(c) })
            .Where(c => c.GpuSeconds != 0 || c.BilledCost != 0 || c.EffectiveCost != 0));
    }

    private static List<InvoiceLine> GpuLines(IEnumerable<InvoiceLine> lines) => lines.Where(l => l.Metered is null).ToList();

    /// <summary>
    /// Per row, <paramref name="now"/> less <paramref name="issued"/>: GPU-seconds and effective cost. Nothing billed yet: the
    /// adjustment lines' amounts are shared anew, so a cent that moved between two rounding shares never shows as a row.
    /// </summary>
    private static List<FocusCharge> Difference(IReadOnlyList<FocusCharge> now, IReadOnlyList<FocusCharge> issued)
    {
        var before = issued.ToDictionary(c => c.Key);
        var after = now.ToDictionary(c => c.Key);
        return now.Concat(issued.Where(c => !after.ContainsKey(c.Key)))
            .Select(c => c with
            {
                GpuSeconds = (after.GetValueOrDefault(c.Key)?.GpuSeconds ?? 0) - (before.GetValueOrDefault(c.Key)?.GpuSeconds ?? 0),
                BilledCost = 0,
                EffectiveCost = (after.GetValueOrDefault(c.Key)?.EffectiveCost ?? 0) - (before.GetValueOrDefault(c.Key)?.EffectiveCost ?? 0),
            })
            .Where(c => c.GpuSeconds != 0 || c.EffectiveCost != 0)
            .ToList();
    }

    /// <summary>The period's usage and commitments per row key, with exact GPU-seconds and prices; nothing billed yet.</summary>
    private static List<FocusCharge> Exact(
        IReadOnlyList<MeteredWindow> windows, IReadOnlyList<Commitment> commitments, PriceHistory prices, SpotPrices spot, DateTimeOffset start, DateTimeOffset end)
    {
        var byId = windows.ToDictionary(w => w.Id);
        var pieces = Rating.Pieces(
            windows.Select(w => new RatableWindow(w.Id, w.Sku, w.Pricing, w.WindowStart, w.GpuSeconds, w.UnbilledGpuSeconds)), commitments, prices, spot, start, end);
        var covered = Covered(pieces, byId, commitments, prices);
        var coveredByLease = covered.GroupBy(c => (c.LeaseId, c.Minute)).ToDictionary(g => g.Key, g => g.Sum(c => c.Charge.GpuSeconds));
        var usedByCommitment = covered.GroupBy(c => (c.Charge.Commitment!.Id, c.Charge.Start)).ToDictionary(g => g.Key, g => g.Sum(c => c.Charge.GpuSeconds));
        return covered.Select(c => c.Charge)
            .Concat(Billable(pieces, byId, coveredByLease, prices))
            .Concat(Committed(pieces, commitments, usedByCommitment, prices, start, end))
            .GroupBy(c => c.Key)
            .Select(g => g.First() with { GpuSeconds = g.Sum(c => c.GpuSeconds) })
            .ToList();
    }

    /// <summary>Each minute's covered seconds, given to its leases in lease-id order and taken from its commitments in start, then id order.</summary>
    private static List<(Guid LeaseId, DateTimeOffset Minute, FocusCharge Charge)> Covered(
        IEnumerable<RatedPiece> pieces, Dictionary<Guid, MeteredWindow> windows, IReadOnlyList<Commitment> commitments, PriceHistory prices)
    {
        var covered = new List<(Guid, DateTimeOffset, FocusCharge)>();
        foreach (var piece in pieces.Where(p => p.Charge == Charge.ReservedCovered && p.GpuSeconds > 0))
        {
            var at = piece.WindowStart!.Value;
            var list = prices.For(piece.Sku, at).OnDemand;
            var covering = commitments.Where(c => c.Sku == piece.Sku && c.CoversAt(at)).OrderBy(c => c.StartsAt).ThenBy(c => c.Id)
                .Select(c => (Commitment: c, Left: c.GpuCount * 60m)).ToArray();
            var (left, next) = (piece.GpuSeconds, 0);
            foreach (var window in piece.Sources.Select(id => windows[id]).OrderBy(w => w.LeaseId))
            {
                var take = Math.Min(window.GpuSeconds, left);
                left -= take;
                while (take > 0)
                {
                    var part = Math.Min(take, covering[next].Left);
                    covered.Add((window.LeaseId, at, UsageOf(piece.Sku, Charge.ReservedCovered, window.LeaseId, covering[next].Commitment, at, list, list, part)));
                    covering[next].Left -= part;
                    take -= part;
                    next += covering[next].Left == 0 ? 1 : 0;
                }
            }
        }

        return covered;
    }

    /// <summary>On-demand, spot and overage usage per lease and minute at the price rating gave it; overage is what the lease's minute had beyond its covered seconds.</summary>
    private static IEnumerable<FocusCharge> Billable(
        IEnumerable<RatedPiece> pieces, Dictionary<Guid, MeteredWindow> windows, Dictionary<(Guid, DateTimeOffset), decimal> coveredByLease, PriceHistory prices)
    {
        foreach (var piece in pieces.Where(p => p.Charge is Charge.OnDemand or Charge.Spot or Charge.ReservedOverage && p.GpuSeconds > 0))
        {
            var at = piece.WindowStart!.Value;
            var list = prices.For(piece.Sku, at).OnDemand;
            foreach (var window in piece.Sources.Select(id => windows[id]))
            {
                var seconds = window.GpuSeconds - (piece.Charge == Charge.ReservedOverage ? coveredByLease.GetValueOrDefault((window.LeaseId, at)) : 0);
                if (seconds > 0)
                {
                    yield return UsageOf(piece.Sku, piece.Charge, window.LeaseId, null, at, list, piece.PricePerGpuHour, seconds);
                }
            }
        }
    }

    /// <summary>Each commitment's purchase per day it runs in the period, at the reserved rate, and the day's committed seconds no usage took.</summary>
    private static IEnumerable<FocusCharge> Committed(
        IEnumerable<RatedPiece> pieces, IReadOnlyList<Commitment> commitments, Dictionary<(Guid, DateTimeOffset), decimal> usedByCommitment, PriceHistory prices,
        DateTimeOffset start, DateTimeOffset end)
    {
        foreach (var piece in pieces.Where(p => p.Charge == Charge.Commitment))
        {
            var commitment = commitments.Single(c => c.Id == piece.Sources[0]);
            var (from, to) = (Later(commitment.StartsAt, start), Earlier(commitment.EndsAt, end));
            var list = prices.For(piece.Sku, from).OnDemand;
            for (var day = Day(from); day < to; day = day.AddDays(1))
            {
                var committed = commitment.GpuCount * (decimal)(Earlier(to, day.AddDays(1)) - Later(from, day)).TotalSeconds;
                var unused = committed - usedByCommitment.GetValueOrDefault((commitment.Id, day));
                yield return new FocusCharge(piece.Sku, Charge.Commitment, null, commitment, false, day, day.AddDays(1), list, piece.PricePerGpuHour, committed, 0, 0);
                if (unused > 0)
                {
                    yield return new FocusCharge(piece.Sku, Charge.Commitment, null, commitment, true, day, day.AddDays(1), list, list, unused, 0, 0);
                }
            }
        }
    }

    private static FocusCharge UsageOf(string sku, Charge charge, Guid lease, Commitment? commitment, DateTimeOffset at, decimal list, decimal contracted, decimal seconds) =>
        new(sku, charge, lease, commitment, false, Day(at), Day(at).AddDays(1), list, contracted, seconds, 0, 0);

    /// <summary>
    /// Each line's amount over its charges, by their exact amounts (GPU-seconds × the rate paid); a
    /// line none of whose usage is found stands as one charge for the month; charges of no line bill 0.
    /// </summary>
    private static List<FocusCharge> Billed(List<FocusCharge> exact, IReadOnlyList<InvoiceLine> lines, int digits, DateTimeOffset start, DateTimeOffset end)
    {
        var byLine = lines.ToDictionary(l => (l.Sku, l.Charge));
        var billed = exact.Where(c => c.Unused || !byLine.ContainsKey((c.Sku, c.Charge))).ToList();
        var charged = exact.Where(c => !c.Unused).ToLookup(c => (c.Sku, c.Charge));
        foreach (var line in lines)
        {
            var charges = Ordered(charged[(line.Sku, line.Charge)]);
            if (charges.Count == 0)
            {
                if (line.GpuSeconds != 0 || line.Amount != 0)
                {
                    billed.Add(new FocusCharge(line.Sku, line.Charge, null, null, false, start, end, line.UnitPrice, line.UnitPrice, line.GpuSeconds, line.Amount, line.Amount));
                }

                continue;
            }

            var shares = FocusAllocation.Allocate(line.Amount, charges.Select(c => c.GpuSeconds * c.ContractedUnitPrice).ToList(), digits);
            billed.AddRange(charges.Select((c, i) => c with { BilledCost = shares[i] }));
        }

        return billed;
    }

    /// <summary>
    /// Amortized cost: usage not under a commitment costs what it bills; a commitment's purchase costs
    /// nothing; each commitment-day's billed amount is spread over its covered and unused seconds.
    /// </summary>
    private static IReadOnlyList<FocusCharge> Effective(List<FocusCharge> billed, int digits)
    {
        var purchases = billed.Where(c => c.Charge == Charge.Commitment && !c.Unused && c.Commitment is not null)
            .ToLookup(c => (c.Commitment!.Id, c.Start), c => c.BilledCost);
        var amortized = billed.Where(c => c.Commitment is not null && (c.Charge == Charge.ReservedCovered || c.Unused))
            .GroupBy(c => (c.Commitment!.Id, c.Start))
            .SelectMany(g =>
            {
                var charges = g.OrderBy(c => c.Unused).ThenBy(c => c.LeaseId).ThenBy(c => c.ListUnitPrice).ToList();
                var shares = FocusAllocation.Allocate(purchases[g.Key].Sum(), charges.Select(c => c.GpuSeconds).ToList(), digits);
                return charges.Select((c, i) => c with { EffectiveCost = shares[i] });
            })
            .ToDictionary(c => c.Key);
        return Ordered(billed.Select(c => amortized.GetValueOrDefault(c.Key) ?? c with { EffectiveCost = EffectiveOf(c) }));
    }

    /// <summary>The effective cost of a charge not amortizing a commitment: a commitment's purchase costs nothing, anything else what it bills.</summary>
    private static decimal EffectiveOf(FocusCharge charge) => charge.Charge == Charge.Commitment && charge.Commitment is not null ? 0 : charge.BilledCost;

    /// <summary>Rows in a stable order: by day, SKU, charge, resource, then price.</summary>
    private static List<FocusCharge> Ordered(IEnumerable<FocusCharge> charges) =>
        charges.OrderBy(c => c.Start).ThenBy(c => c.Sku, StringComparer.Ordinal).ThenBy(c => c.Charge)
            .ThenBy(c => c.LeaseId ?? c.Commitment?.Id).ThenBy(c => c.Unused).ThenBy(c => c.ListUnitPrice).ThenBy(c => c.ContractedUnitPrice)
            .ToList();

    private static DateTimeOffset Day(DateTimeOffset at) => new(at.UtcDateTime.Date, TimeSpan.Zero);

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Earlier(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
