using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.ServiceDefaults.Access;

public static class Policies
{
    public const string Ops = "ops";
    /// <summary>A node key, acting on its own node (the route's <c>nodeId</c>).</summary>
    public const string OwnNode = "own-node";
    public const string Tenant = "tenant";
    public const string TenantOrStaff = "tenant-or-staff";
    public const string Finance = "finance";
    public const string AnyKey = "any-key";

    public static void Add(AuthorizationOptions options)
    {
        options.AddPolicy(Ops, p => p.RequireRole(Roles.Ops));
        options.AddPolicy(OwnNode, p => p.RequireRole(Roles.Node).RequireAssertion(context =>
            context.Resource is HttpContext http && http.GetRouteValue("nodeId") is string nodeId && nodeId == context.User.NodeId()));
        options.AddPolicy(Tenant, p => p.RequireRole(Roles.Tenant));
        options.AddPolicy(TenantOrStaff, p => p.RequireRole(Roles.Tenant, Roles.Finance, Roles.Ops));
        options.AddPolicy(Finance, p => p.RequireRole(Roles.Finance, Roles.Ops));
        options.AddPolicy(AnyKey, p => p.RequireAuthenticatedUser());
    }
}
