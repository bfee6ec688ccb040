using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Billing.IntegrationTests.Gateway;

/// <summary>
/// A method and a path template with its parameters unnamed (<c>/v1/leases/{}/end</c>), so the README's
/// <c>{id}</c> and an endpoint's <c>{leaseId:guid}</c> compare equal.
/// </summary>
public sealed partial record ApiRoute(string Method, string Template)
{
    public static ApiRoute Of(string method, RoutePattern pattern) =>
        new(method, "/" + string.Join('/', pattern.PathSegments.Select(s =>
            s.Parts is [RoutePatternLiteralPart literal] ? literal.Content : "{}")));

    /// <summary>A path from the README: query string dropped, each <c>{name}</c> unnamed.</summary>
    public static ApiRoute Of(string method, string path) =>
        new(method, Parameter().Replace(path.Split('?')[0].TrimEnd('/'), "{}"));

    /// <summary>A concrete path nginx would see, with <paramref name="value"/> for each parameter.</summary>
    public string Sample(string value = "p") => Template.Replace("{}", value, StringComparison.Ordinal);

    /// <summary>
    /// Answered by every host about itself rather than by one module: liveness, and the OpenAPI document and
    /// its reference (their libraries map the assets too). The gateway passes none of them to a service.
    /// </summary>
    public bool IsHostLevel => Template == "/health" || IsReference;

    /// <summary>The OpenAPI document or Scalar's reference (<c>/openapi/…</c>, <c>/docs…</c>).</summary>
    public bool IsReference => Template.StartsWith("/openapi/", StringComparison.Ordinal) || Template == "/docs" || Template.StartsWith("/docs/", StringComparison.Ordinal);

    public override string ToString() => $"{Method} {Template}";

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Parameter();
}
