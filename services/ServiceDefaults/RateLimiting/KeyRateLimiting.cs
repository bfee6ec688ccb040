using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Billing.ServiceDefaults.RateLimiting;

/// <summary>
/// One token bucket per key (its role's <see cref="RateLimits"/>), checked after authentication so
/// the key is known; a refusal is 429 with Retry-After and a problem body.
/// </summary>
public static class KeyRateLimiting
{
    public static IServiceCollection AddKeyRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimits>()
            .Bind(configuration.GetSection(RateLimits.Section))
            .Validate(
                l => new[] { l.Ops, l.Finance, l.Tenant, l.Node, l.Anonymous }.All(b => b.TokenLimit > 0 && b.TokensPerPeriod > 0 && b.ReplenishmentPeriod > TimeSpan.Zero),
                $"Every {RateLimits.Section} bucket needs a positive TokenLimit, TokensPerPeriod and ReplenishmentPeriod.")
            .ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimits>>((options, limits) =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => Partition(context, limits.Value));
            options.OnRejected = RejectAsync;
        });
        return services;
    }

    /// <summary>A key's bucket is named by its role and the key's hash; a request without an accepted key, by its remote address.</summary>
    private static RateLimitPartition<string> Partition(HttpContext context, RateLimits limits)
    {
        var caller = context.User.Identity?.IsAuthenticated == true ? context.User.FindFirstValue(ClaimTypes.NameIdentifier) : null;
        var role = caller is null ? null : context.User.FindFirstValue(ClaimTypes.Role);
        var bucket = limits.For(role);
        return RateLimitPartition.GetTokenBucketLimiter(
            caller is null ? $"address:{context.Connection.RemoteIpAddress}" : $"{role}:{caller}",
            _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = bucket.TokenLimit,
                TokensPerPeriod = bucket.TokensPerPeriod,
                ReplenishmentPeriod = bucket.ReplenishmentPeriod,
                QueueLimit = 0,
                AutoReplenishment = true,
            });
    }

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await Results.Problem(
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many requests",
                detail: $"This key has used its request rate; retry in {seconds} s.",
                type: Problems.Type("rate-limited"))
            .ExecuteAsync(rejected.HttpContext);
    }
}
