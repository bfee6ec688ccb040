using Marten;

namespace Billing.ServiceDefaults;

/// <summary>Writes of documents kept with optimistic concurrency, where a lost race must fail rather than overwrite.</summary>
public static class VersionedWrites
{
    /// <summary>
    /// An insert if the document did not exist when this session read it (fails if another
    /// transaction created it meanwhile), else an update (fails if another changed it since): either
    /// failure is a <see cref="WriteConflicts"/> conflict for the caller to retry.
    /// </summary>
    public static void InsertOrUpdate<T>(this IDocumentSession session, T document, bool existed)
        where T : notnull
    {
        if (existed)
        {
            session.Update(document);
        }
        else
        {
            session.Insert(document);
        }
    }
}
