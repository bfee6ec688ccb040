using Microsoft.AspNetCore.Http;

namespace Billing.ServiceDefaults;

/// <summary>RFC 7807 answers with a stable type per kind of problem.</summary>
public static class Problems
{
    public static IResult Invalid(string detail, IDictionary<string, string[]>? errors = null) =>
        errors is null
            ? Results.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid request", type: "https://billing.example/problems/invalid")
            : Results.ValidationProblem(errors, detail: detail, type: "https://billing.example/problems/invalid");

    public static IResult NotFound(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found", type: "https://billing.example/problems/not-found");

    public static IResult Conflict(string title, string detail, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: title, type: "https://billing.example/problems/conflict", extensions: extensions);

    public static IResult Unprocessable(string title, string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status422UnprocessableEntity, title: title, type: "https://billing.example/problems/unprocessable");
}
