using System.Globalization;
using System.Text;

namespace Billing.Invoicing.Invoices;

/// <summary>
/// A tenant whose usage of <see cref="Period"/> cannot be rated, and why. Kept while it fails (every
/// draft run rates the tenant again) and deleted by the draft that rates it, in that draft's
/// transaction; reconciliation shows it, and a month's close holds back the tenant's invoice.
/// </summary>
public sealed record RatingFailure(string Id, string TenantId, string Period, string Problem, DateTimeOffset Since, DateTimeOffset LastTriedAt)
{
    private const int MaxProblemLength = 300;

    public static string IdFor(string tenantId, string period) => $"{tenantId}|{period}";

    public static RatingFailure Of(string tenantId, string period, Exception exception, DateTimeOffset at) =>
        new(IdFor(tenantId, period), tenantId, period, Describe(exception), at, at);

    /// <summary>
    /// The exception's type and message, fit for a log line and an API answer: a message can quote
    /// stored request text (a SKU), so control, format and surrogate characters become '?' and the length is capped.
    /// </summary>
    public static string Describe(Exception exception)
    {
        var text = new StringBuilder($"{exception.GetType().Name}: ");
        foreach (var c in exception.Message.Take(MaxProblemLength))
        {
            text.Append(char.IsControl(c) || char.IsSurrogate(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format ? '?' : c);
        }

        return exception.Message.Length > MaxProblemLength ? text.Append('…').ToString() : text.ToString();
    }
}
