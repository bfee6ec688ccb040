using JasperFx;
using Marten.Exceptions;
using Npgsql;

namespace Billing.ServiceDefaults;

/// <summary>Recognises a lost race on a Marten write: another writer got there first (or the two deadlocked).</summary>
public static class WriteConflicts
{
    public static bool IsConflict(Exception exception) =>
        exception is ConcurrencyException or ExistingStreamIdCollisionException or DocumentAlreadyExistsException
        || (exception is AggregateException many && many.InnerExceptions.All(IsConflict))
        || (exception.InnerException ?? exception) is PostgresException
        {
            SqlState: PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure,
        };
}
