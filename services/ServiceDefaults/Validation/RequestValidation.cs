using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.ServiceDefaults.Validation;

/// <summary>
/// The one validation layer every endpoint passes through, after authorization and before its handler:
/// the Accept header against what the endpoint offers (406), route ids against the id rule (404: no
/// such resource can exist), then each argument that has a validator (400 naming every bad field).
/// </summary>
public static class RequestValidation
{
    public static TBuilder WithRequestValidation<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilterFactory(Create);

    private static EndpointFilterDelegate Create(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        var parameters = context.MethodInfo.GetParameters();
        var ids = parameters.Select((p, i) => (p, i)).Where(x => x.p.ParameterType == typeof(string) && x.p.Name!.EndsWith("Id", StringComparison.Ordinal)).ToArray();
        var registry = context.ApplicationServices.GetRequiredService<IServiceProviderIsService>();
        var validated = parameters
            .Select((p, i) => (Index: i, Validator: typeof(IValidator<>).MakeGenericType(p.ParameterType)))
            .Where(x => registry.IsService(x.Validator))
            .ToArray();

        return async invocation =>
        {
            var http = invocation.HttpContext;
            var offered = http.GetEndpoint()?.Metadata.GetMetadata<Offers>()?.MediaTypes ?? [ContentNegotiation.Json];
            if (ContentNegotiation.Choose(http.Request, offered) is not { } chosen)
            {
                return Problems.NotAcceptable(offered);
            }

            ContentNegotiation.Remember(http, chosen);
            foreach (var (parameter, index) in ids)
            {
                if (http.Request.RouteValues.ContainsKey(parameter.Name!) && !InputRules.IsId(invocation.GetArgument<string?>(index)))
                {
                    return Problems.NotFound($"No {parameter.Name![..^2]} '{InputRules.Printable(invocation.GetArgument<string?>(index))}'.");
                }
            }

            var errors = new Dictionary<string, string[]>();
            foreach (var (index, validatorType) in validated)
            {
                var argument = invocation.Arguments[index];
                if (argument is null)
                {
                    continue;
                }

                var validator = (IValidator)http.RequestServices.GetRequiredService(validatorType);
                var result = await validator.ValidateAsync(new ValidationContext<object>(argument), http.RequestAborted);
                foreach (var failure in result.Errors.GroupBy(e => FieldName(e.PropertyName)))
                {
                    errors[failure.Key] = [.. failure.Select(e => e.ErrorMessage).Distinct()];
                }
            }

            return errors.Count > 0
                ? Problems.Invalid("The request is invalid; nothing was changed.", errors)
                : await next(invocation);
        };
    }

    /// <summary>"Gpus[0].PowerW" as the JSON names it: "gpus[0].powerW".</summary>
    internal static string FieldName(string property) =>
        string.Join('.', property.Split('.').Select(p => p.Length == 0 ? p : char.ToLowerInvariant(p[0]) + p[1..]));
}
