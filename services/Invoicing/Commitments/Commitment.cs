namespace Billing.Invoicing.Commitments;

/// <summary>A tenant commits to <see cref="GpuCount"/> GPUs of a SKU for whole months from a start date.</summary>
public sealed record CommitmentMade(Guid CommitmentId, string TenantId, string Sku, int GpuCount, DateTimeOffset StartsAt, int Months, DateTimeOffset MadeAt);

/// <summary>A reserved commitment as read (inline snapshot of its stream).</summary>
public sealed record Commitment(Guid Id, string TenantId, string Sku, int GpuCount, DateTimeOffset StartsAt, DateTimeOffset EndsAt, DateTimeOffset MadeAt)
{
    public static Commitment Create(CommitmentMade made) =>
        new(made.CommitmentId, made.TenantId, made.Sku, made.GpuCount, made.StartsAt, made.StartsAt.AddMonths(made.Months), made.MadeAt);

    public bool CoversAt(DateTimeOffset at) => StartsAt <= at && at < EndsAt;

    /// <summary>How long the commitment runs inside [start, end): a partial month is pro-rated by the hour.</summary>
    public TimeSpan OverlapWith(DateTimeOffset start, DateTimeOffset end)
    {
        var from = StartsAt > start ? StartsAt : start;
        var to = EndsAt < end ? EndsAt : end;
        return to > from ? to - from : TimeSpan.Zero;
    }
}
