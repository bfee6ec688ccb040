using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Billing.ServiceDefaults;

/// <summary>The media types an endpoint can answer with, the first being its default.</summary>
public sealed record Offers(params string[] MediaTypes);

/// <summary>
/// Proactive negotiation (RFC 9110 §12.5.1): each offered type takes the quality of the most specific
/// Accept range that matches it; the best quality above zero wins, ties by the endpoint's order.
/// </summary>
public static class ContentNegotiation
{
    public const string Json = "application/json";
    private const string ChosenKey = "billing:negotiated";

    /// <summary>Declares what an endpoint answers with beyond JSON; every other endpoint offers JSON only.</summary>
    public static TBuilder Offering<TBuilder>(this TBuilder builder, params string[] mediaTypes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new Offers(mediaTypes));

    /// <summary>The offered type to answer with, or null when the Accept header rules every one out.</summary>
    public static string? Choose(HttpRequest request, IReadOnlyList<string> offered)
    {
        var accept = request.Headers.Accept;
        if (accept.Count == 0 || !MediaTypeHeaderValue.TryParseList(accept, out var ranges) || ranges.Count == 0)
        {
            return offered[0];
        }

        string? best = null;
        var bestQuality = 0.0;
        foreach (var type in offered)
        {
            var quality = QualityOf(new MediaTypeHeaderValue(type), ranges);
            if (quality > bestQuality)
            {
                (best, bestQuality) = (type, quality);
            }
        }

        return best;
    }

    /// <summary>The type the negotiation filter chose for this request (JSON when none ran).</summary>
    public static string Negotiated(this HttpContext http) => http.Items[ChosenKey] as string ?? Json;

    internal static void Remember(HttpContext http, string chosen) => http.Items[ChosenKey] = chosen;

    private static double QualityOf(MediaTypeHeaderValue type, IList<MediaTypeHeaderValue> ranges)
    {
        MediaTypeHeaderValue? match = null;
        foreach (var range in ranges)
        {
            if (type.IsSubsetOf(range) && (match is null || Specificity(range) > Specificity(match)))
            {
                match = range;
            }
        }

        return match is null ? 0 : match.Quality ?? 1.0;
    }

    private static int Specificity(MediaTypeHeaderValue range) =>
        range.MatchesAllTypes ? 0 : range.MatchesAllSubTypes ? 1 : 2 + range.Parameters.Count;
}
