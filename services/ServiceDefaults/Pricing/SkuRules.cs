using Billing.ServiceDefaults.Validation;
using FluentValidation;
using Marten;

namespace Billing.ServiceDefaults.Pricing;

public static class SkuRules
{
    /// <summary>
    /// A SKU of the price book in force: usage of any other could never be rated, and an unknown one
    /// is refused before anything (a grain, a document) is created for it. The answer lists the known
    /// SKUs, never the input.
    /// </summary>
    public static IRuleBuilderOptions<T, string?> KnownSku<T>(this IRuleBuilder<T, string?> rule, IQuerySession session)
    {
        IReadOnlyCollection<string>? known = null;
        return rule
            .MustAsync(async (sku, ct) =>
            {
                known ??= (await PriceHistory.LoadAsync(session, ct)).Latest.Skus.Keys.ToList();
                return InputRules.IsId(sku) && known.Contains(sku!);
            })
            .WithMessage(_ => $"A SKU of the price book: {string.Join(", ", known ?? [])}.");
    }
}
