using System.Net;

namespace Billing.NodeAgent.Api;

/// <summary>A non-success answer from the API, with the problem it described.</summary>
public sealed class ApiException(HttpStatusCode status, string request, Problem? problem, string body)
    : Exception($"{request} → {(int)status} {problem?.Title ?? status.ToString()}: {problem?.Detail ?? Trim(body)}")
{
    public HttpStatusCode Status { get; } = status;

    public Problem? Problem { get; } = problem;

    /// <summary>True for failures worth another try: the API down, overloaded or not answering in time.</summary>
    public static bool IsTransient(Exception exception, CancellationToken ct) => exception switch
    {
        ApiException api => (int)api.Status >= 500 || api.Status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout,
        HttpRequestException => true,
        OperationCanceledException => !ct.IsCancellationRequested,
        _ => false,
    };

    private static string Trim(string body) => body.Length > 300 ? body[..300] + "…" : body;
}
