using System.Globalization;

namespace Billing.ServiceDefaults;

/// <summary>A billing period is a calendar month in UTC, named <c>yyyy-MM</c>.</summary>
public static class BillingPeriod
{
    private const string Format = "yyyy-MM";

    public static string Of(DateTimeOffset at) => at.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public static bool IsValid(string? period) =>
        DateTime.TryParseExact(period, Format, CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    public static (DateTimeOffset Start, DateTimeOffset End) Bounds(string period)
    {
        var start = DateTimeOffset.ParseExact(period + "-01T00:00:00Z", "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return (start, start.AddMonths(1));
    }
}
