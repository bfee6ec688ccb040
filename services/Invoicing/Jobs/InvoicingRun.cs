using Billing.Invoicing.Invoices;

namespace Billing.Invoicing.Jobs;

/// <summary>
/// One run of the draft job, kept for finance and ops (<c>GET /v1/invoicing/runs</c>): the periods it
/// rated (a month with held invoices among them), how many drafts changed, the month it closed, the invoices it issued, and the tenants it
/// could not rate, with why: all of them counted in <see cref="Unrated"/>, the first
/// <see cref="MaxFailures"/> listed (every one is a <see cref="RatingFailure"/> until it rates).
/// </summary>
public sealed record InvoicingRun(
    Guid Id, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, IReadOnlyList<string> Periods, int Drafted, string? Closed, int Issued,
    int Unrated, IReadOnlyList<RatingFailure> Failures)
{
    public const int MaxFailures = 100;

    public InvoicingRun With(int drafted, int issued, IReadOnlyList<RatingFailure> failures) =>
        this with
        {
            Drafted = Drafted + drafted,
            Issued = Issued + issued,
            Unrated = Unrated + failures.Count,
            Failures = [.. Failures, .. failures.Take(MaxFailures - Failures.Count)],
        };
}
