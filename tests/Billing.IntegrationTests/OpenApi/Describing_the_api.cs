using System.Net;
using System.Text.Json;
using Billing.IntegrationTests.Gateway;

namespace Billing.IntegrationTests.OpenApi;

/// <summary>
/// The OpenAPI document (generated from the endpoints' metadata) describes every route of the README's API
/// table with its success and problem responses and who may call it; Scalar's reference over it is served
/// from this host alone.
/// </summary>
public sealed class Describing_the_api(Platform platform) : IClassFixture<Platform>
{
    private const string ProblemJson = "application/problem+json";

    [Fact]
    public async Task Every_route_of_the_readme_api_table_is_in_the_document_with_its_success_and_problem_responses()
    {
        using var anonymous = platform.Client();
        using var response = await anonymous.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var operations = Operations(document.RootElement);
        var readme = ReadmeApiTable.Read().Where(r => !r.IsHostLevel).Distinct().ToList();

        var gaps = readme.SelectMany(route => operations.TryGetValue(route, out var operation)
            ? Gaps(operation).Select(gap => $"{route}: {gap}")
            : [$"{route} is not in the document"]).ToList();

        Assert.True(readme.Count >= 25, $"The README's API table lists {readme.Count} routes; the parser lost some.");
        Assert.Empty(gaps);
        Assert.Equal("bearer", document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task The_reference_is_public_and_loads_nothing_from_elsewhere()
    {
        using var anonymous = platform.Client();

        using var page = await anonymous.GetAsync(new Uri("/docs/", UriKind.Relative));
        var html = await page.Content.ReadAsStringAsync();
        using var script = await anonymous.GetAsync(new Uri("/docs/scalar.js", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"url\":\"openapi/v1.json\"", html, StringComparison.Ordinal);
        Assert.Contains("<script src=\"scalar.js\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.True((await script.Content.ReadAsByteArrayAsync()).Length > 100_000, "Scalar's script comes from the package, whole.");
    }

    private static Dictionary<ApiRoute, JsonElement> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
                .Where(o => o.Name is "get" or "post" or "put" or "patch" or "delete")
                .Select(o => (Route: ApiRoute.Of(o.Name.ToUpperInvariant(), path.Name), Operation: o.Value)))
            .ToDictionary(o => o.Route, o => o.Operation);

    /// <summary>What an operation of a keyed endpoint lacks: a typed success, the problems the edge answers, who may call it.</summary>
    private static IEnumerable<string> Gaps(JsonElement operation)
    {
        var responses = operation.GetProperty("responses").EnumerateObject().ToDictionary(r => r.Name, r => r.Value);
        var successes = responses.Where(r => r.Key.StartsWith('2')).ToList();
        if (!successes.Any(s => s.Key == "204" || (s.Value.TryGetProperty("content", out var content) && content.EnumerateObject().Any())))
        {
            yield return "no success response with content";
        }

        var declared = operation.TryGetProperty("parameters", out var list) ? list.EnumerateArray().ToList() : [];
        var parameters = declared.Select(p => p.GetProperty("in").GetString()).ToList();
        foreach (var name in declared.Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()!).Where(n => char.IsUpper(n[0])))
        {
            yield return $"query parameter {name} is not named as the API names it (camelCase)";
        }

        var expected = new List<string> { "401", "406", "429" };
        if (parameters.Contains("path"))
        {
            expected.Add("404");
        }

        if (parameters.Contains("query") || operation.TryGetProperty("requestBody", out _))
        {
            expected.Add("400");
        }

        var description = operation.TryGetProperty("description", out var text) ? text.GetString() ?? "" : "";
        if (!description.Contains("Any key.", StringComparison.Ordinal))
        {
            expected.Add("403");
        }

        foreach (var status in expected)
        {
            var schema = responses.TryGetValue(status, out var problem) && problem.TryGetProperty("content", out var content)
                && content.TryGetProperty(ProblemJson, out var media) && media.TryGetProperty("schema", out var s) && s.TryGetProperty("$ref", out var reference)
                ? reference.GetString() : null;
            var wanted = status == "400" ? "HttpValidationProblemDetails" : "ProblemDetails";
            if (schema?.EndsWith("/" + wanted, StringComparison.Ordinal) != true)
            {
                yield return $"no {status} {ProblemJson} response with the {wanted} schema";
            }
        }

        if (!description.Contains("Roles: ", StringComparison.Ordinal) && !description.Contains("Any key.", StringComparison.Ordinal))
        {
            yield return "no roles in the description";
        }

        if (!operation.TryGetProperty("security", out var security) || !security.EnumerateArray().Any(r => r.TryGetProperty("Bearer", out _)))
        {
            yield return "no bearer requirement";
        }
    }
}
