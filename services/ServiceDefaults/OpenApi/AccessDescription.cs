using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Billing.ServiceDefaults.OpenApi;

/// <summary>
/// Who may call an operation, read from its endpoint's authorization metadata the way the authorization
/// middleware combines it: the bearer requirement, and the roles (and named policies) in the description.
/// </summary>
internal sealed class AccessDescription(IAuthorizationPolicyProvider policies) : IOpenApiOperationTransformer
{
    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var policy = await RequiredPolicyAsync(policies, context.Description.ActionDescriptor.EndpointMetadata);
        if (policy is null)
        {
            operation.Description = Append(operation.Description, "Anyone: no key needed.");
            return;
        }

        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme.Name, context.Document)] = [] }];
        var roles = policy.Requirements.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).Distinct().ToList();
        var who = roles.Count == 0 ? "Any key." : $"Roles: {string.Join(", ", roles)}.";

        // A policy that asks more than a role (a node key on its own node) is named, so the reader knows there is more.
        var further = policy.Requirements.Any(r => r is not (RolesAuthorizationRequirement or DenyAnonymousAuthorizationRequirement))
            ? context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Select(a => a.Policy).OfType<string>().Distinct().ToList()
            : [];
        operation.Description = Append(operation.Description, further.Count == 0 ? who : $"{who} Policy: {string.Join(", ", further)}.");
    }

    /// <summary>The policy an endpoint requires, or null when anyone may call it.</summary>
    internal static async Task<AuthorizationPolicy?> RequiredPolicyAsync(IAuthorizationPolicyProvider policies, IList<object> metadata) =>
        metadata.OfType<IAllowAnonymous>().Any()
            ? null
            : await AuthorizationPolicy.CombineAsync(policies, metadata.OfType<IAuthorizeData>(), metadata.OfType<AuthorizationPolicy>());

    private static string Append(string? description, string line) =>
        string.IsNullOrEmpty(description) ? line : $"{description}\n\n{line}";
}
