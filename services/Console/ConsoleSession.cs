using Billing.ServiceDefaults.Access;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using System.Security.Claims;

namespace Billing.Consoles;

/// <summary>
/// The console's session: an HttpOnly, SameSite=Strict cookie holding the claims the API key gave at sign-in
/// (never the key). Each request re-reads the key by its id through the API's own cache, so a revoked key
/// ends its sessions as soon as it ends its API access.
/// </summary>
public static class ConsoleSession
{
    public const string Scheme = "Console";

    public static void Configure(CookieAuthenticationOptions options)
    {
        options.Cookie.Name = "billing-console";
        options.Cookie.Path = ConsoleSetup.BasePath;
        options.Cookie.HttpOnly = true;
        options.Cookie.SameSite = SameSiteMode.Strict;
        options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.ExpireTimeSpan = TimeSpan.FromHours(8);
        options.SlidingExpiration = true;
        options.LoginPath = ConsoleSetup.BasePath + "/signin";
        options.Events.OnRedirectToLogin = context =>
        {
            context.Response.Redirect(ConsoleSetup.BasePath + "/signin");
            return Task.CompletedTask;
        };
        // A page the role may not see is refused, not redirected: 403 as on the API.
        options.Events.OnRedirectToAccessDenied = context =>
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        };
        options.Events.OnValidatePrincipal = async context =>
        {
            var keyId = context.Principal?.FindFirstValue(ClaimTypes.NameIdentifier);
            if (keyId is null || !await context.HttpContext.RequestServices.GetRequiredService<KeyClaims>().IsLiveAsync(keyId))
            {
                context.RejectPrincipal();
            }
        };
    }

    /// <summary>A principal for the cookie from what the key proves; null when the key is refused.</summary>
    public static ClaimsPrincipal? PrincipalOf(KeyCheck check) =>
        check.Refusal == KeyRefusal.None && !check.Claims.Any(c => c is { Type: ClaimTypes.Role, Value: Roles.Node })
            ? new ClaimsPrincipal(new ClaimsIdentity(check.Claims, Scheme))
            : null;
}
