using System.Globalization;
using System.Text.RegularExpressions;

namespace Billing.ServiceDefaults.Validation;

/// <summary>
/// The platform's rules for what a caller may send: one place for id, name, time and period formats,
/// used by every validator and by route ids.
/// </summary>
public static partial class InputRules
{
    public const int MaxIdLength = 128;
    public const int MaxNameLength = 200;
    public const int MinYear = 2000;
    public const int MaxYear = 2199;

    /// <summary>Ids travel in URLs, logs and SQL: a conservative set, and never a path segment of its own.</summary>
    public static bool IsId(string? value) =>
        value is { Length: > 0 and <= MaxIdLength } && IdPattern().IsMatch(value) && value is not ("." or "..");

    /// <summary>Free text (names, regions): printable, no control or bidirectional-override characters.</summary>
    public static bool IsSafeText(string? value)
    {
        if (value is null)
        {
            return false;
        }

        // A loop, not LINQ over the string: every heartbeat checks each GPU's uuid here.
        foreach (var c in value)
        {
            if (IsUnsafeChar(c))
            {
                return false;
            }
        }

        return !HasLoneSurrogate(value);
    }

    /// <summary>Request text as it may appear in a log or an answer: unsafe characters replaced, length capped.</summary>
    public static string Printable(string? value, int max = MaxIdLength)
    {
        if (value is null)
        {
            return "";
        }

        var clipped = value.Length > max ? value[..max] + "…" : value;
        return string.Concat(clipped.Select(c => IsUnsafeChar(c) ? '?' : c));
    }

    /// <summary>An RFC 3339 date-time with an explicit offset (Z or ±hh:mm), years 2000 to 2199.</summary>
    public static bool TryParseTime(string? value, out DateTimeOffset at)
    {
        at = default;
        return value is not null
            && Rfc3339().IsMatch(value)
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out at)
            && at.Year is >= MinYear and <= MaxYear;
    }

    public static bool InYears(DateTimeOffset at) => at.Year is >= MinYear and <= MaxYear;

    public static bool IsPeriod(string? value) =>
        BillingPeriod.IsValid(value) && int.Parse(value![..4], CultureInfo.InvariantCulture) is >= MinYear and <= MaxYear;

    private static bool IsUnsafeChar(char c) =>
        char.IsControl(c)
        || c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069')
        || c is '\uFFFE' or '\uFFFF';

    /// <summary>An unpaired surrogate cannot be encoded as UTF-8 (PostgreSQL would refuse the row).</summary>
    private static bool HasLoneSurrogate(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]+$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339();
}
