using System.Globalization;

namespace Billing.Consoles.Components.Shared;

/// <summary>How the consoles print amounts and times: the invoice's currency beside the exact decimal; times in UTC.</summary>
public static class Show
{
    public static string Money(decimal amount, string currency) => $"{amount.ToString("#,0.00##########", CultureInfo.InvariantCulture)} {currency}";

    public static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string Utc(DateTimeOffset? at) => at is { } value ? Utc(value) : "—";

    /// <summary>A share (0 to 1) as a percentage with one decimal.</summary>
    public static string Percent(decimal share) => (share * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    public static string Number(decimal value) => value.ToString("#,0.##########", CultureInfo.InvariantCulture);
}
