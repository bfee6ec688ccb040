using Billing.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Consoles;

/// <summary>The billing clock (the one the API's rules read), so "this month" is the API's month.</summary>
public sealed class ConsoleClock([FromKeyedServices(BillingClock.Key)] TimeProvider time)
{
    public DateTimeOffset Now => time.GetUtcNow();
}
