using System.Globalization;
using Billing.Invoicing.Invoices;

namespace Billing.Invoicing.Exports;

/// <summary>Text the invoice exports share, always in the invariant culture.</summary>
internal static class ExportText
{
    public const string PlatformName = "GPU Cloud";

    /// <summary>What stands for the number of an invoice that has none yet (draft or finalized, not issued).</summary>
    public const string DraftNumber = "DRAFT";

    public static string NumberOrDraft(InvoiceView invoice) => invoice.Number ?? DraftNumber;

    /// <summary>The value exactly as held: every digit of its scale, no rounding, no grouping, '.' as the separator.</summary>
    public static string Exact(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    public static string ChargeLabel(Charge charge) => charge switch
    {
        Charge.OnDemand => "On-demand",
        Charge.Spot => "Spot",
        Charge.ReservedCovered => "Reserved (covered)",
        Charge.ReservedOverage => "Reserved overage",
        Charge.Commitment => "Commitment",
        _ => charge.ToString(),
    };

    /// <summary>The first instant of a period ("yyyy-MM", a UTC calendar month).</summary>
    public static DateTimeOffset MonthStart(string period) =>
        DateTime.TryParseExact(period, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var start)
            ? new DateTimeOffset(DateTime.SpecifyKind(start, DateTimeKind.Utc))
            : throw new FormatException($"Invoice period '{period}' is not a month, yyyy-MM.");

    /// <summary>RFC 3339 in UTC, to the second: 2026-11-01T00:00:00Z.</summary>
    public static string Rfc3339(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
