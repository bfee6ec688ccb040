namespace Billing.Invoicing.Jobs;

/// <summary>A month whose invoices were all issued: its later usage is billed as adjustments.</summary>
public sealed record ClosedPeriod(string Id, DateTimeOffset ClosedAt);
