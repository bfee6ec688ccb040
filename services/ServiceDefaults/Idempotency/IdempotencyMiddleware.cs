using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Billing.ServiceDefaults.Idempotency;

/// <summary>
/// <c>Idempotency-Key</c> on every POST (Stripe's semantics), per caller: the first request with a key
/// runs and its answer is kept for 24 h; the same request again (method, path, query and body) gets
/// that answer replayed, another request under the key a 422, and one while the first still runs a
/// 409 with Retry-After. A 5xx or 400 answer or an exception is not kept, so the retry runs again.
/// Only a POST carrying the header is buffered.
/// </summary>
public sealed partial class IdempotencyMiddleware(RequestDelegate next, IdempotencyStore store, ILogger<IdempotencyMiddleware> logger)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxKeyLength = 255;

    public async Task InvokeAsync(HttpContext context)
    {
        var caller = context.User.FindFirstValue(ClaimTypes.NameIdentifier);
        if (!HttpMethods.IsPost(context.Request.Method) || caller is null || !context.Request.Headers.TryGetValue(Header, out var values))
        {
            await next(context);
            return;
        }

        if (values is not [{ } key] || !IsValidKey(key))
        {
            await Problems.Invalid($"'{Header}' must be one value of 1 to {MaxKeyLength} printable ASCII characters.").ExecuteAsync(context);
            return;
        }

        var claim = await store.ClaimAsync(caller, key, await FingerprintAsync(context.Request), context.RequestAborted);
        switch (claim.Outcome)
        {
            case ClaimOutcome.Claimed:
                await RunAsync(context, caller, key, claim.Token);
                break;
            case ClaimOutcome.Replay:
                await ReplayAsync(context, claim.Answer!);
                break;
            case ClaimOutcome.Mismatch:
                await Problems.Unprocessable("Idempotency key reused", $"This '{Header}' was used for a different request; use a new key.").ExecuteAsync(context);
                break;
            default:
                context.Response.Headers.RetryAfter = "1";
                await Problems.Conflict("Request in progress", $"A request with this '{Header}' is still running; retry to get its answer.").ExecuteAsync(context);
                break;
        }
    }

    /// <summary>
    /// A 5xx may not have happened and a 400 did not happen (the request was refused as invalid), so
    /// neither is kept: the retry, or the corrected request, runs under the same key.
    /// </summary>
    private static bool IsKept(int status) => status is not StatusCodes.Status400BadRequest and < StatusCodes.Status500InternalServerError;

    private static bool IsValidKey(string key) => key.Length is > 0 and <= MaxKeyLength && key.All(c => c is >= ' ' and <= '~');

    /// <summary>The request's identity under a key: method, path with query, and body (buffered so the endpoint reads it again).</summary>
    private static async Task<byte[]> FingerprintAsync(HttpRequest request)
    {
        request.EnableBuffering();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.PathBase}{request.Path}{request.QueryString}\n"));
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            hash.AppendData(chunk, 0, read);
        }

        request.Body.Position = 0;
        return hash.GetHashAndReset();
    }

    private async Task RunAsync(HttpContext context, string caller, string key, Guid token)
    {
        var response = context.Response;
        var original = response.Body;
        using var buffer = new MemoryStream();
        response.Body = buffer;
        var kept = false;
        using (var running = new CancellationTokenSource())
        {
            var renewal = RenewAsync(caller, key, token, running.Token);
            try
            {
                await next(context);
                if (IsKept(response.StatusCode))
                {
                    // Kept even when the client has gone: its retry is what this is for.
                    kept = await store.CompleteAsync(caller, key, token,
                        new StoredAnswer(response.StatusCode, response.ContentType, response.Headers.Location.FirstOrDefault(), buffer.ToArray()));
                    if (!kept)
                    {
                        LogClaimLost(logger, context.GetEndpoint()?.DisplayName);
                    }
                }
            }
            finally
            {
                await running.CancelAsync();
                await renewal;
                response.Body = original;
                if (!kept)
                {
                    await store.ReleaseAsync(caller, key, token);
                }
            }
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

    private async Task RenewAsync(string caller, string key, Guid token, CancellationToken running)
    {
        using var timer = new PeriodicTimer(IdempotencyStore.ClaimLease / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(running))
            {
                await store.RenewAsync(caller, key, token, running);
            }
        }
        catch (OperationCanceledException) when (running.IsCancellationRequested)
        {
        }
        catch (NpgsqlException ex)
        {
            LogRenewalFailed(logger, ex);
        }
    }

    private static async Task ReplayAsync(HttpContext context, StoredAnswer answer)
    {
        var response = context.Response;
        response.StatusCode = answer.Status;
        response.ContentType = answer.ContentType;
        if (answer.Location is not null)
        {
            response.Headers.Location = answer.Location;
        }

        response.Headers[ReplayedHeader] = "true";
        response.ContentLength = answer.Body.Length;
        await response.Body.WriteAsync(answer.Body, context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The idempotency claim of {Endpoint} ran out before it answered; its answer was not kept.")]
    private static partial void LogClaimLost(ILogger logger, string? endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing an idempotency claim failed; it lapses unless the request answers in time.")]
    private static partial void LogRenewalFailed(ILogger logger, Exception exception);
}

public static class IdempotencyExtensions
{
    public static IServiceCollection AddIdempotencyKeys(this IServiceCollection services)
    {
        services.AddSingleton<IdempotencyStore>();
        services.AddHostedService(sp => sp.GetRequiredService<IdempotencyStore>());
        return services;
    }

    public static IApplicationBuilder UseIdempotencyKeys(this IApplicationBuilder app) => app.UseMiddleware<IdempotencyMiddleware>();
}
