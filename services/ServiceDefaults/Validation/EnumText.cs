namespace Billing.ServiceDefaults.Validation;

/// <summary>
/// Enums as the API spells them: one name, case-insensitive. Enum.TryParse alone would also take
/// "1" or "Draft,Issued" (a combination that may happen to be defined).
/// </summary>
public static class EnumText
{
    public static bool TryParse<TEnum>(string? value, out TEnum parsed)
        where TEnum : struct, Enum
    {
        var name = Enum.GetNames<TEnum>().FirstOrDefault(n => string.Equals(n, value, StringComparison.OrdinalIgnoreCase));
        parsed = name is null ? default : Enum.Parse<TEnum>(name);
        return name is not null;
    }

    public static TEnum ParseOr<TEnum>(string? value, TEnum fallback)
        where TEnum : struct, Enum =>
        TryParse<TEnum>(value, out var parsed) ? parsed : fallback;
}
