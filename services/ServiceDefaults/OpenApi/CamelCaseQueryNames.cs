using System.Text.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Billing.ServiceDefaults.OpenApi;

/// <summary>
/// Query parameters bound from <c>[AsParameters]</c> records carry their property names (<c>From</c>); query
/// keys bind case-insensitively, so the document names them as the API's JSON does (<c>from</c>).
/// </summary>
internal sealed class CamelCaseQueryNames : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>().Where(p => p.In == ParameterLocation.Query && p.Name is not null))
        {
            parameter.Name = JsonNamingPolicy.CamelCase.ConvertName(parameter.Name!);
        }

        return Task.CompletedTask;
    }
}
