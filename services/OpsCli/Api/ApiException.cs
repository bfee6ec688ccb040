using System.Net;

namespace Billing.OpsCli.Api;

/// <summary>A non-success answer from the API, with the problem it described (null when the body was not problem+json).</summary>
public sealed class ApiException(HttpStatusCode status, string request, Problem? problem, string body)
    : Exception($"{request} → {(int)status} {problem?.Title ?? status.ToString()}")
{
    public HttpStatusCode Status { get; } = status;

    public string Request { get; } = request;

    public Problem? Problem { get; } = problem;

    public string Body { get; } = body;
}
