namespace Billing.ServiceDefaults;

/// <summary>Ids of the streams more than one service reads, derived from their natural keys.</summary>
public static class StreamIds
{
    public static readonly Guid PriceBook = DeterministicGuid.Create("price-book");

    public static Guid Spot(string sku) => DeterministicGuid.Create($"spot:{sku}");

    public static Guid Invoice(string tenantId, string period) => DeterministicGuid.Create($"invoice:{tenantId}:{period}");
}
