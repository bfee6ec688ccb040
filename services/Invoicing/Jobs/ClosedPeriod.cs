namespace Billing.Invoicing.Jobs;

/// <summary>
/// A closed month: every invoice of it issued except the <see cref="Held"/> tenants', whose rating
/// failed at the close (each run rates them again, and issues each once it rates). Its later usage is
/// billed as adjustments on the next invoices, except the held tenants', which their own invoice bills.
/// </summary>
/// <remarks><see cref="Held"/> is null in months closed before tenants could be held.</remarks>
public sealed record ClosedPeriod(string Id, DateTimeOffset ClosedAt, IReadOnlyList<string>? Held = null);
