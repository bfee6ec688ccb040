namespace Billing.ServiceDefaults.Access;

public sealed record Tenant(string Id, string Name, DateTimeOffset CreatedAt);
