using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Billing.ServiceDefaults.Validation;

/// <summary>An endpoint's request body limit in bytes.</summary>
public sealed record BodyLimit(long Bytes);

/// <summary>
/// Request bodies are small JSON documents: 1 MiB unless an endpoint declares less (a heartbeat:
/// 64 KiB), instead of Kestrel's 30 MB. A declared length over the limit is refused before reading.
/// </summary>
public static class BodyLimits
{
    public const long Default = 1024 * 1024;

    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, long bytes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new BodyLimit(bytes));

    public static IApplicationBuilder UseBodyLimits(this IApplicationBuilder app) =>
        app.Use(async (http, next) =>
        {
            var limit = http.GetEndpoint()?.Metadata.GetMetadata<BodyLimit>()?.Bytes ?? Default;
            if (http.Request.ContentLength > limit)
            {
                throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
            }

            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            {
                feature.MaxRequestBodySize = limit;
            }

            await next(http);
        });
}
