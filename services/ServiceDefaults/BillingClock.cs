namespace Billing.ServiceDefaults;

/// <summary>
/// The clock billing rules read, registered as a keyed <see cref="TimeProvider"/> so tests can drive
/// billing time without also moving the clocks Orleans membership, Marten and MassTransit run on.
/// </summary>
public static class BillingClock
{
    public const string Key = "billing";
}
