using JasperFx;
using Marten.Exceptions;
using Npgsql;

namespace Billing.ServiceDefaults;

/// <summary>Recognises a lost optimistic-concurrency race on a Marten append: another writer got there first.</summary>
public static class WriteConflicts
{
    public static bool IsConflict(Exception exception) =>
        exception is ConcurrencyException or ExistingStreamIdCollisionException
        || (exception.InnerException ?? exception) is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
