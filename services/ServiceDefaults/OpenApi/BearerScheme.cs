using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Billing.ServiceDefaults.OpenApi;

/// <summary>The API's one security scheme: an API key sent as a bearer token.</summary>
internal sealed class BearerScheme : IOpenApiDocumentTransformer
{
    public const string Name = "Bearer";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[Name] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key (`<role>_` and 43 base64url characters): ops and finance keys from `POST /v1/keys`, "
                + "a tenant's from `POST /v1/tenants`, a node's from `POST /v1/nodes`.",
        };
        return Task.CompletedTask;
    }
}
