namespace Billing.Invoicing.Exports;

/// <summary>
/// Splits an amount that was rounded once (an invoice line, a commitment's day) over the finer rows
/// it is the sum of, in whole minor units, so that the rows add up to it exactly: the largest
/// remainder method.
/// </summary>
public static class FocusAllocation
{
    /// <summary>
    /// Each row gets <paramref name="total"/> × its weight / Σ weights, rounded down to the minor unit;
    /// the units left over go one each to the rows with the largest remainders (ties: the earlier row).
    /// With no weight at all the whole total goes to the first row.
    /// </summary>
    public static decimal[] Allocate(decimal total, IReadOnlyList<decimal> weights, int minorUnitDigits)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var shares = new decimal[weights.Count];
        var sum = weights.Sum();
        if (weights.Count == 0 || total == 0)
        {
            return weights.Count == 0 && total != 0 ? throw new ArgumentException("An amount needs a row to go to.", nameof(weights)) : shares;
        }

        if (sum == 0)
        {
            shares[0] = total;
            return shares;
        }

        if (total < 0)
        {
            // Mirrored, so a negative amount (an adjustment) is shared as its positive twin would be.
            return Allocate(-total, weights, minorUnitDigits).Select(s => -s).ToArray();
        }

        var unit = new decimal(1, 0, 0, false, (byte)minorUnitDigits);
        var remainders = new decimal[weights.Count];
        for (var i = 0; i < weights.Count; i++)
        {
            var exact = total * weights[i] / sum / unit;
            var whole = Math.Floor(exact);
            shares[i] = whole * unit;
            remainders[i] = exact - whole;
        }

        // Rounding down leaves fewer units over than there are rows.
        var left = (total - shares.Sum()) / unit;
        var step = Math.Sign(left) * unit;
        var order = Enumerable.Range(0, weights.Count).OrderBy(i => step > 0 ? -remainders[i] : remainders[i]).ThenBy(i => i).ToArray();
        for (var n = 0; n < Math.Abs(left); n++)
        {
            shares[order[n % order.Length]] += step;
        }

        return shares;
    }
}
