using Billing.Consoles.Components;
using Billing.ServiceDefaults.Access;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Billing.Consoles;

/// <summary>
/// The consoles: server-rendered pages under <see cref="BasePath"/>, signed in with a session cookie that an
/// API key is exchanged for. They read through the same code the API's endpoints call, in this process, so
/// they run only in a host that runs every module.
/// </summary>
public static class ConsoleSetup
{
    public const string BasePath = "/console";

    public static WebApplicationBuilder AddConsoles(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents();
        builder.Services.AddMudServices();
        builder.Services.AddSingleton<ConsoleClock>();
        builder.Services.AddAuthentication().AddCookie(ConsoleSession.Scheme, ConsoleSession.Configure);
        return builder;
    }

    /// <summary>Maps the pages, their assets (MudBlazor's, served from this host) and the downloads; after the API's middleware.</summary>
    public static WebApplication MapConsoles(this WebApplication app)
    {
        app.UseAntiforgery();
        var console = app.MapGroup(BasePath);
        console.MapStaticAssets();
        console.MapConsoleDownloads();
        app.MapRazorComponents<App>();
        app.MapGet(BasePath, () => Results.Redirect(BasePath + "/signin")).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>Where a role lands after signing in.</summary>
    public static string HomeOf(System.Security.Claims.ClaimsPrincipal user) =>
        user.IsInRole(Roles.Tenant) ? $"{BasePath}/tenant"
        : user.IsInRole(Roles.Finance) ? $"{BasePath}/finance"
        : $"{BasePath}/ops";
}
