namespace Billing.ServiceDefaults.Validation;

/// <summary>Enums as the API spells them: by name only, case-insensitive (Enum.TryParse alone also takes "1").</summary>
public static class EnumText
{
    public static bool TryParse<TEnum>(string? value, out TEnum parsed)
        where TEnum : struct, Enum
    {
        parsed = default;
        return !string.IsNullOrEmpty(value)
            && (char.IsAsciiLetter(value[0]))
            && Enum.TryParse(value, ignoreCase: true, out parsed)
            && Enum.IsDefined(parsed);
    }

    public static TEnum ParseOr<TEnum>(string? value, TEnum fallback)
        where TEnum : struct, Enum =>
        TryParse<TEnum>(value, out var parsed) ? parsed : fallback;
}
