using System.Collections;
using Marten;

namespace Billing.Ledger;

public static class SessionExtensions
{
    /// <summary>
    /// Marten leaves a non-serializable NpgsqlBatch in PostgresException.Data, which then breaks
    /// MassTransit's Fault message; keep only primitive entries before the exception travels on.
    /// </summary>
    public static async Task SaveChangesWithoutExceptionDataAsync(this IDocumentSession session, CancellationToken cancellationToken)
    {
        try
        {
            await session.SaveChangesAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            for (var e = ex; e is not null; e = e.InnerException)
            {
                foreach (var key in e.Data.Keys.Cast<object>().ToList())
                {
                    if (e.Data[key] is not (null or string or IConvertible))
                    {
                        e.Data.Remove(key);
                    }
                }
            }

            throw;
        }
    }
}
