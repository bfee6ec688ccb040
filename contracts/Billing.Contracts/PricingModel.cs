namespace Billing.Contracts;

public enum PricingModel
{
    OnDemand,
    Spot,
    Reserved,
}
