using System.Diagnostics;
using MassTransit;
using MassTransit.Logging;

namespace Billing.ServiceDefaults.Telemetry;

/// <summary>The span a message was sent from, as MassTransit carries it in its headers (a W3C traceparent).</summary>
public static class MessageTrace
{
    public static ActivityContext SenderTrace(this ConsumeContext message) =>
        message.Headers.Get<string>(DiagnosticHeaders.ActivityId) is { } traceParent
            && ActivityContext.TryParse(traceParent, null, out var context)
            ? context
            : default;
}
