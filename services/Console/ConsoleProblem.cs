using FluentValidation.Results;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Billing.Consoles;

/// <summary>
/// A refusal as the console shows it: the problem the API would answer with (its title, detail and the errors per
/// field), from the same validators and the same handlers.
/// </summary>
public sealed record ConsoleProblem(string Title, string Detail, IDictionary<string, string[]> Errors)
{
    /// <summary>A validator's failures, named and worded as the API's validation layer names them.</summary>
    public static ConsoleProblem? Of(ValidationResult result) =>
        result.IsValid
            ? null
            : new("Invalid request", "The request is invalid; nothing was changed.", result.Errors
                .GroupBy(e => FieldName(e.PropertyName))
                .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray()));

    /// <summary>The problem an endpoint's handler answered with; null when it answered with something else.</summary>
    public static ConsoleProblem? Of(IResult result) => result switch
    {
        ProblemHttpResult problem => new(problem.ProblemDetails.Title ?? "", problem.ProblemDetails.Detail ?? "",
            (problem.ProblemDetails as HttpValidationProblemDetails)?.Errors ?? new Dictionary<string, string[]>()),
        ValidationProblem invalid => new(invalid.ProblemDetails.Title ?? "", invalid.ProblemDetails.Detail ?? "", invalid.ProblemDetails.Errors),
        _ => null,
    };

    private static string FieldName(string property) => property.Length == 0 ? property : char.ToLowerInvariant(property[0]) + property[1..];
}
