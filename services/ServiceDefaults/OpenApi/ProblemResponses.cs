using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;

namespace Billing.ServiceDefaults.OpenApi;

/// <summary>
/// The problems the shared middleware and validation layer answer for an operation, whatever its handler
/// does: 400 (validation), 401 and 403 (the auth handler), 404, 406 (negotiation), 409 and 422 (an
/// Idempotency-Key in use or reused), 413 and 415 (bodies), 429 (rate limits). Handler-specific problems
/// are declared on the endpoint (<c>ProducesProblem</c>) and kept.
/// </summary>
internal sealed class ProblemResponses(IAuthorizationPolicyProvider policies) : IOpenApiOperationTransformer
{
    private const string ProblemJson = "application/problem+json";

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var policy = await AccessDescription.RequiredPolicyAsync(policies, metadata);
        var post = HttpMethods.IsPost(context.Description.HttpMethod ?? "");
        var body = operation.RequestBody is not null;
        var parameters = operation.Parameters ?? [];
        var query = parameters.Any(p => p.In == ParameterLocation.Query);
        var path = parameters.Any(p => p.In == ParameterLocation.Path);

        // Every keyed endpoint is a module's, behind the validation layer and content negotiation.
        var problems = new List<(int Status, string Description)>();
        if (policy is not null && (body || query || post))
        {
            problems.Add((StatusCodes.Status400BadRequest, "Invalid: `errors` names each bad field as JSON names it; nothing was changed."));
        }

        if (policy is not null)
        {
            problems.Add((StatusCodes.Status401Unauthorized, "No key, or a key refused (`WWW-Authenticate: Bearer`)."));
        }

        if (policy?.Requirements.Any(r => r is not DenyAnonymousAuthorizationRequirement) == true)
        {
            problems.Add((StatusCodes.Status403Forbidden, "The key's role may not call this."));
        }

        if (path)
        {
            problems.Add((StatusCodes.Status404NotFound, "Not found, or not the caller's."));
        }

        if (policy is not null)
        {
            problems.Add((StatusCodes.Status406NotAcceptable, "The Accept header rules out every type this answers with."));
        }

        if (post)
        {
            problems.Add((StatusCodes.Status409Conflict, "Conflict; or a request under the same Idempotency-Key is still running (`Retry-After`)."));
            problems.Add((StatusCodes.Status422UnprocessableEntity, "The Idempotency-Key was used for another request."));
            (operation.Parameters ??= []).Add(IdempotencyKey);
        }

        if (body)
        {
            problems.Add((StatusCodes.Status413PayloadTooLarge, "The body is over the endpoint's limit."));
            problems.Add((StatusCodes.Status415UnsupportedMediaType, "The body is not JSON."));
        }

        if (!metadata.OfType<DisableRateLimitingAttribute>().Any())
        {
            problems.Add((StatusCodes.Status429TooManyRequests, "Over the key's rate limit; `Retry-After` says when to retry."));
        }

        var problem = await SchemaAsync(typeof(ProblemDetails), context, cancellationToken);
        var validation = await SchemaAsync(typeof(HttpValidationProblemDetails), context, cancellationToken);
        operation.Responses ??= [];
        foreach (var (status, description) in problems)
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (operation.Responses.TryGetValue(key, out var declared) && declared.Content?.ContainsKey(ProblemJson) == true)
            {
                continue;
            }

            operation.Responses[key] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [ProblemJson] = new() { Schema = status == StatusCodes.Status400BadRequest ? validation : problem },
                },
            };
        }
    }

    private static OpenApiParameter IdempotencyKey => new()
    {
        Name = "Idempotency-Key",
        In = ParameterLocation.Header,
        Description = "Retry safely: the first answer under this key is kept for 24 h and replayed (`Idempotent-Replayed: true`).",
        Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 255 },
    };

    /// <summary>A reference to the type's schema in the document's components, added there once.</summary>
    private static async Task<IOpenApiSchema> SchemaAsync(Type type, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document!;
        if (document.Components?.Schemas?.ContainsKey(type.Name) != true)
        {
            document.AddComponent(type.Name, await context.GetOrCreateSchemaAsync(type, null, cancellationToken));
        }

        return new OpenApiSchemaReference(type.Name, document);
    }
}
