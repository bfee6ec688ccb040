using Microsoft.AspNetCore.Authorization;

namespace Billing.ServiceDefaults.Access;

public static class Policies
{
    public const string Ops = "ops";
    public const string Node = "node";
    public const string Tenant = "tenant";
    public const string TenantOrStaff = "tenant-or-staff";
    public const string Finance = "finance";
    public const string AnyKey = "any-key";

    public static void Add(AuthorizationOptions options)
    {
        options.AddPolicy(Ops, p => p.RequireRole(Roles.Ops));
        options.AddPolicy(Node, p => p.RequireRole(Roles.Node));
        options.AddPolicy(Tenant, p => p.RequireRole(Roles.Tenant));
        options.AddPolicy(TenantOrStaff, p => p.RequireRole(Roles.Tenant, Roles.Finance, Roles.Ops));
        options.AddPolicy(Finance, p => p.RequireRole(Roles.Finance, Roles.Ops));
        options.AddPolicy(AnyKey, p => p.RequireAuthenticatedUser());
    }
}
