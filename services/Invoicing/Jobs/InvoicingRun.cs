using Billing.Invoicing.Invoices;

namespace Billing.Invoicing.Jobs;

/// <summary>
/// One run of the draft job, kept for finance and ops (<c>GET /v1/invoicing/runs</c>): the periods it
/// rated, how many drafts changed, the month it closed, the invoices it issued, and every tenant it
/// could not rate, with why.
/// </summary>
public sealed record InvoicingRun(
    Guid Id, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, IReadOnlyList<string> Periods, int Drafted, string? Closed, int Issued,
    IReadOnlyList<RatingFailure> Failures);
