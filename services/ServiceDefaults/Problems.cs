using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Billing.ServiceDefaults;

/// <summary>RFC 9457 answers with a stable type per kind of problem.</summary>
public static class Problems
{
    private const string Base = "https://billing.example/problems/";

    /// <summary>The type URI of a kind of problem (<c>invalid</c>, <c>unavailable</c>...): every answer's type has this one base.</summary>
    public static string Type(string kind) => Base + kind;

    public static IResult Invalid(string detail, IDictionary<string, string[]>? errors = null) =>
        errors is null
            ? Results.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid request", type: Type("invalid"))
            : Results.ValidationProblem(errors, detail: detail, title: "Invalid request", type: Type("invalid"));

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found", type: Type("not-found"));

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", type: Type("forbidden"));

    public static ProblemHttpResult Conflict(string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: title, type: Type("conflict"), extensions: extensions);

    public static ProblemHttpResult Unprocessable(string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status422UnprocessableEntity, title: title, type: Type("unprocessable"));

    public static ProblemHttpResult NotAcceptable(IEnumerable<string> offered) =>
        TypedResults.Problem(
            detail: $"This resource is available as {string.Join(", ", offered)}; the Accept header rules out every one.",
            statusCode: StatusCodes.Status406NotAcceptable, title: "Not acceptable", type: Type("not-acceptable"));
}
