using System.Security.Claims;
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
    DateTimeOffset? WindowStart, IReadOnlyList<Guid> Sources, decimal GpuSeconds, decimal UnitPrice, decimal ExactAmount, IReadOnlyList<NodeWindow>? Windows = null);

/// <summary>One node's usage window behind a piece.</summary>
public sealed record NodeWindow(Guid UsageId, Guid LeaseId, string? NodeId, decimal GpuSeconds, decimal UnbilledGpuSeconds);

public sealed record LineExplanation(
    Guid InvoiceId, int LineNumber, InvoiceLine Line, string Basis, IReadOnlyList<ExplainedPiece> Pieces, decimal GpuSeconds, decimal RoundedAmount, bool SumsToLine);

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
}
