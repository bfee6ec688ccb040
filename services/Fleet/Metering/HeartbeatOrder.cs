namespace Billing.Fleet.Metering;

public enum HeartbeatAdmission
{
    Accepted,
    Duplicate,
    OutOfOrder,
    TooFarInFuture,
    TooLate,
    UnknownNode,
    UnknownGpu,
}

/// <summary>Which heartbeats a node may take: in observation order, and inside the accepted time range.</summary>
public static class HeartbeatOrder
{
    public static HeartbeatAdmission Admit(DateTimeOffset? last, DateTimeOffset observedAt, DateTimeOffset now, MeteringOptions options)
    {
        if (observedAt > now + options.FutureTolerance)
        {
            return HeartbeatAdmission.TooFarInFuture;
        }

        if (observedAt < now - options.LateArrivalWindow)
        {
            return HeartbeatAdmission.TooLate;
        }

        if (last is { } previous)
        {
            if (observedAt == previous)
            {
                return HeartbeatAdmission.Duplicate;
            }

            if (observedAt < previous)
            {
                return HeartbeatAdmission.OutOfOrder;
            }
        }

        return HeartbeatAdmission.Accepted;
    }
}
