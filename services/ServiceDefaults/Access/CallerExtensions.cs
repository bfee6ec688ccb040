using System.Security.Claims;

namespace Billing.ServiceDefaults.Access;

public static class CallerExtensions
{
    public static string? TenantId(this ClaimsPrincipal user) => user.FindFirstValue(Roles.TenantIdClaim);

    public static string? NodeId(this ClaimsPrincipal user) => user.FindFirstValue(Roles.NodeIdClaim);

    /// <summary>
    /// The tenant whose data a request may read: a tenant key only its own; finance and ops any
    /// tenant they name. Null when the caller may not read the one asked for.
    /// </summary>
    public static string? ReadableTenant(this ClaimsPrincipal user, string? requested) =>
        user.IsInRole(Roles.Tenant)
            ? (requested is null || requested == user.TenantId() ? user.TenantId() : null)
            : requested;
}
