using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Billing.ServiceDefaults.Access;

public static class ApiKeyAuthentication
{
    public static WebApplicationBuilder AddApiKeyAuthentication(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<KnownKeys>();
        builder.Services.AddSingleton<KeyClaims>();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, o =>
                o.OpsKey = builder.Configuration["Billing:OpsKey"] ?? throw new InvalidOperationException("Billing:OpsKey is not configured."));

        // The base handler logs every refusal and challenge at Information under the handler's
        // category; the handler logs its own at Debug under ApiKeyAuthenticationHandler.RefusalsCategory.
        builder.Logging.AddFilter(typeof(ApiKeyAuthenticationHandler).FullName, LogLevel.Warning);
        return builder;
    }
}

public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions
{
    public string OpsKey { get; set; } = "";

    /// <summary>How long a looked-up key is trusted before it is read again; bounds how late a revocation bites.</summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a well-formed key that was never issued stays refused without another lookup.</summary>
    public TimeSpan UnknownCacheFor { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Bearer keys: the ops key from configuration, every other key looked up by its hash. The caller's
/// identity (<see cref="ClaimTypes.NameIdentifier"/>) is the key's hash, or "ops". Refusals are problem
/// bodies whatever the Accept header, and are logged at Debug only: a flood of bad keys must not flood the log.
/// </summary>
public sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyAuthenticationOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    KeyClaims claims) : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Bearer";
    public const string RefusalsCategory = "Billing.ServiceDefaults.Access.Refusals";

    private readonly ILogger refusals = loggerFactory.CreateLogger(RefusalsCategory);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var check = await claims.CheckAsync(header["Bearer ".Length..].Trim());
        switch (check.Refusal)
        {
            case KeyRefusal.None:
                return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(check.Claims, SchemeName)), SchemeName));
            case KeyRefusal.Malformed:
                LogMalformed(refusals);
                return AuthenticateResult.Fail("Malformed key.");
            case KeyRefusal.Unknown or KeyRefusal.Revoked:
                LogRefused(refusals, check.KeyId!, check.Refusal == KeyRefusal.Unknown ? "unknown" : "revoked");
                return AuthenticateResult.Fail("Unknown or revoked key.");
            default:
                throw new InvalidOperationException($"Unexpected key refusal {check.Refusal}.");
        }
    }

    /// <summary>401 with <c>WWW-Authenticate: Bearer</c> (RFC 6750), naming invalid_token when a key was given and refused.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var refused = (await HandleAuthenticateOnceSafeAsync()).Failure is not null;
        Response.Headers.WWWAuthenticate = refused ? "Bearer error=\"invalid_token\"" : "Bearer";
        await Results.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Unauthorized",
                detail: refused ? "The bearer key is unknown or revoked." : "This request needs an 'Authorization: Bearer <key>' header.",
                type: Problems.Type("unauthorized"))
            .ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Results.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden",
                detail: "This key's role may not make this request.",
                type: Problems.Type("forbidden"))
            .ExecuteAsync(Context);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused a malformed bearer key.")]
    private static partial void LogMalformed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused bearer key {KeyId}: {Reason}.")]
    private static partial void LogRefused(ILogger logger, string keyId, string reason);
}
