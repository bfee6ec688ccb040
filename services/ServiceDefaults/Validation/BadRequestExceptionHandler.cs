using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Billing.ServiceDefaults.Validation;

/// <summary>
/// What ASP.NET Core refuses before a handler runs (malformed JSON, a value of the wrong type, a query
/// value that does not bind, a body too large or of another media type) becomes a problem naming the
/// field, instead of a bare "Bad Request". Input is never echoed: the field and what it should be.
/// </summary>
public sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }

        var problem = Describe(bad);
        context.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    private static ProblemDetails Describe(BadHttpRequestException bad)
    {
        switch (bad.StatusCode)
        {
            case StatusCodes.Status413PayloadTooLarge:
                return new ProblemDetails { Status = 413, Title = "Request too large", Type = Problems.Type("too-large"), Detail = "The request body exceeds this endpoint's limit; nothing was changed." };
            case StatusCodes.Status415UnsupportedMediaType:
                return new ProblemDetails { Status = 415, Title = "Unsupported media type", Type = Problems.Type("unsupported-media-type"), Detail = "Send the body as application/json." };
        }

        var errors = new Dictionary<string, string[]>();
        if (bad.InnerException is JsonException json)
        {
            var field = json.Path is null or "$" ? "body" : RequestValidation.FieldName(json.Path.TrimStart('$', '.'));
            errors[field] = [json.Path is null ? "Not valid JSON." : $"Not a valid value for this field (line {json.LineNumber + 1}, byte {json.BytePositionInLine + 1})."];
        }
        else if (BoundParameter().Match(bad.Message) is { Success: true } match)
        {
            errors[RequestValidation.FieldName(match.Groups[1].Value)] = ["Not a valid value for this parameter."];
        }
        else
        {
            errors["body"] = ["A JSON body is required."];
        }

        return new HttpValidationProblemDetails(errors)
        {
            Status = 400,
            Title = "Invalid request",
            Type = Problems.Type("invalid"),
            Detail = "The request could not be read; nothing was changed.",
        };
    }

    // "Failed to bind parameter "int? page" from "abc"." and "Required parameter "string name" was not provided ...".
    [GeneratedRegex("parameter \"[^\"]*?(\\w+)\"")]
    private static partial Regex BoundParameter();
}
