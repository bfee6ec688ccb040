using System.Security.Claims;
using System.Text.Json.Serialization;
using Billing.Invoicing.Meters;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Pricing;
using Marten;
using Microsoft.AspNetCore.Http;

namespace Billing.Invoicing.Invoices;

/// <summary>
/// One rated piece behind a line: a minute window's usage (its usage event ids, and each stored
/// window: lease, node, billed and health-credited GPU-seconds) or a commitment, and its price.
/// </summary>
public sealed record ExplainedPiece(
    DateTimeOffset? WindowStart, IReadOnlyList<Guid> Sources, decimal GpuSeconds, decimal UnitPrice, decimal ExactAmount, IReadOnlyList<NodeWindow>? Windows = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] MeterHourPiece? MeterHour = null);

/// <summary>
/// A metered line's piece: the part of one hourly aggregate in the line's tier (the hour starts at the
/// piece's <c>windowStart</c>), and the range of ingest log sequence numbers the hour was rolled up from.
/// </summary>
public sealed record MeterHourPiece(decimal Quantity, decimal UnitsPerPrice, long FirstSequence, long LastSequence);

/// <summary>One node's usage window behind a piece.</summary>
public sealed record NodeWindow(Guid UsageId, Guid LeaseId, string? NodeId, decimal GpuSeconds, decimal UnbilledGpuSeconds);

public sealed record LineExplanation(
    Guid InvoiceId, int LineNumber, InvoiceLine Line, string Basis, IReadOnlyList<ExplainedPiece> Pieces, decimal GpuSeconds, decimal RoundedAmount, bool SumsToLine,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? Quantity = null);

/// <summary><c>GET /v1/invoices/{id}/lines/{n}/explain</c>: the windows and prices a line is the sum of.</summary>
public static class InvoiceExplanation
{
    public static async Task<IResult> ExplainAsync(Guid invoiceId, int lineNumber, ClaimsPrincipal user, IQuerySession session, HttpContext http)
    {
        var invoice = await session.LoadAsync<Invoice>(invoiceId, http.RequestAborted);
        if (invoice is null || user.ReadableTenant(invoice.TenantId) != invoice.TenantId)
        {
            return Problems.NotFound($"No invoice '{invoiceId}'.");
        }

        if (lineNumber < 1 || lineNumber > invoice.Lines.Count)
        {
            return Problems.NotFound($"Invoice '{invoiceId}' has lines 1 to {invoice.Lines.Count}.");
        }

        var line = invoice.Lines[lineNumber - 1];
        var period = line.AdjustsPeriod ?? invoice.Period;
        // A line of the invoice's own period shows the windows its rating included, not usage stored since.
        var rated = line.AdjustsPeriod is null
            ? (await session.LoadAsync<RatingCheckpoint>(RatingCheckpoint.IdFor(invoice.TenantId, period, period), http.RequestAborted))?.UsageRevision
            : null;
        var inputs = await RatingInputs.WindowsOfAsync(session, invoice.TenantId, period, rated, http.RequestAborted);
        if (line.Metered is { } metered)
        {
            return Results.Ok(ExplainMetered(invoice, lineNumber, line, metered, period, inputs));
        }

        var priced = inputs.Pieces(invoice.TenantId).Where(p => p.Sku == line.Sku && p.Charge == line.Charge).OrderBy(p => p.WindowStart).ToList();
        var sources = priced.SelectMany(p => p.Sources).ToArray();
        var windows = (await session.Query<MeteredWindow>().Where(w => w.TenantId == invoice.TenantId && w.Id.IsOneOf(sources)).ToListAsync(http.RequestAborted))
            .ToDictionary(w => w.Id, w => new NodeWindow(w.Id, w.LeaseId, w.NodeId, w.GpuSeconds, w.UnbilledGpuSeconds));
        var pieces = priced.Select(p => new ExplainedPiece(p.WindowStart, p.Sources, p.GpuSeconds, p.PricePerGpuHour, p.ExactAmount,
            p.Sources.Where(windows.ContainsKey).Select(id => windows[id]).ToList())).ToList();
        var seconds = pieces.Sum(p => p.GpuSeconds);
        var amount = Math.Round(RatedPiece.ExactAmountOf(priced), inputs.MinorUnitDigits, MidpointRounding.AwayFromZero);
        var basis = line.AdjustsPeriod is null
            ? $"{line.Charge} usage of {line.Sku} in {period}: the line is the sum of these pieces, its amount rounded once."
            : $"Adjustment for {period}: the pieces are {period}'s {line.Charge} usage of {line.Sku} as rated now; the line is what they add to the issued invoice.";
        var sums = line.AdjustsPeriod is null && seconds == line.GpuSeconds && amount == line.Amount;
        return Results.Ok(new LineExplanation(invoiceId, lineNumber, line, basis, pieces, seconds, amount, sums));
    }

    /// <summary>A meter line: the hourly aggregates (parts in its tier) it sums, each with the ingest sequence range behind it.</summary>
    private static LineExplanation ExplainMetered(Invoice invoice, int lineNumber, InvoiceLine line, MeteredQuantity metered, string period, RatingInputs inputs)
    {
        var priced = inputs.MeterPieces(invoice.TenantId)
            .Where(p => p.Meter == metered.Meter && p.Group == metered.Group && p.Tier == metered.Tier).OrderBy(p => p.HourStart).ToList();
        var pieces = priced.Select(p => new ExplainedPiece(p.HourStart, [], 0, p.UnitPrice, p.Quantity * p.UnitPrice / p.UnitsPerPrice, null,
            new MeterHourPiece(p.Quantity, p.UnitsPerPrice, p.FirstSequence, p.LastSequence))).ToList();
        var quantity = priced.Sum(p => p.Quantity);
        var amount = Math.Round(MeterPiece.ExactAmountOf(priced), inputs.MinorUnitDigits, MidpointRounding.AwayFromZero);
        var what = $"{metered.Meter} usage of {metered.Group}, tier {metered.Tier + 1}, in {period}, per {metered.UnitsPerPrice:0.##} units";
        var basis = line.AdjustsPeriod is null
            ? $"{what}: the line is the sum of these hourly aggregates' parts in the tier, its amount rounded once."
            : $"Adjustment for {period}: the pieces are {what} as rated now; the line is what they add to the issued invoice.";
        var sums = line.AdjustsPeriod is null && quantity == metered.Quantity && amount == line.Amount;
        return new LineExplanation(invoice.Id, lineNumber, line, basis, pieces, 0, amount, sums, quantity);
    }
}
