using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Billing.ServiceDefaults.OpenApi;

/// <summary>
/// The media types an endpoint offers beyond JSON (<see cref="ContentNegotiation.Offering{TBuilder}"/>) on its
/// success response: CSV as text, PDF as binary.
/// </summary>
internal sealed class OfferedMediaTypes : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<Offers>().LastOrDefault() is not { } offers)
        {
            return Task.CompletedTask;
        }

        operation.Responses ??= [];
        if (!operation.Responses.TryGetValue("200", out var ok) || ok is not OpenApiResponse success)
        {
            operation.Responses["200"] = success = new OpenApiResponse { Description = "OK" };
        }

        success.Content ??= new Dictionary<string, OpenApiMediaType>();
        foreach (var type in offers.MediaTypes.Where(t => t != ContentNegotiation.Json))
        {
            success.Content[type] = new OpenApiMediaType
            {
                Schema = type.StartsWith("text/", StringComparison.Ordinal)
                    ? new OpenApiSchema { Type = JsonSchemaType.String }
                    : new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
            };
        }

        return Task.CompletedTask;
    }
}
