using FluentValidation;

namespace Billing.ServiceDefaults.Validation;

/// <summary>The <see cref="InputRules"/> as FluentValidation rules, so validators read like the API table.</summary>
public static class RuleBuilderExtensions
{
    public static IRuleBuilderOptions<T, string?> Id<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(InputRules.IsId)
            .WithMessage($"1 to {InputRules.MaxIdLength} characters from A-Z a-z 0-9 . _ : - (not '.' or '..').");

    public static IRuleBuilderOptions<T, string?> Name<T>(this IRuleBuilder<T, string?> rule, int max = InputRules.MaxNameLength) =>
        rule.Must(v => !string.IsNullOrWhiteSpace(v) && v.Length <= max && InputRules.IsSafeText(v))
            .WithMessage($"1 to {max} characters, not only spaces, without control or bidirectional-override characters.");

    public static IRuleBuilderOptions<T, string?> Time<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(v => InputRules.TryParseTime(v, out _))
            .WithMessage($"An RFC 3339 time with its offset, such as 2026-11-01T00:00:00Z, in the years {InputRules.MinYear} to {InputRules.MaxYear}.");

    public static IRuleBuilderOptions<T, DateTimeOffset?> InYears<T>(this IRuleBuilder<T, DateTimeOffset?> rule) =>
        rule.Must(v => v is null || InputRules.InYears(v.Value))
            .WithMessage($"A time in the years {InputRules.MinYear} to {InputRules.MaxYear}.");

    public static IRuleBuilderOptions<T, string?> Period<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(InputRules.IsPeriod)
            .WithMessage($"A month, YYYY-MM, in the years {InputRules.MinYear} to {InputRules.MaxYear}.");

    /// <summary>An enum given as its name (never a number), case-insensitive.</summary>
    public static IRuleBuilderOptions<T, string?> OneOf<T, TEnum>(this IRuleBuilder<T, string?> rule)
        where TEnum : struct, Enum =>
        rule.Must(v => v is null || EnumText.TryParse<TEnum>(v, out _))
            .WithMessage($"One of {string.Join(", ", Enum.GetNames<TEnum>())}.");

    /// <summary>A finite number in [min, max] (NaN and infinities refused), or absent.</summary>
    public static IRuleBuilderOptions<T, double?> Within<T>(this IRuleBuilder<T, double?> rule, double min, double max) =>
        rule.Must(v => v is null || (double.IsFinite(v.Value) && v.Value >= min && v.Value <= max))
            .WithMessage($"A number from {min} to {max}.");
}
