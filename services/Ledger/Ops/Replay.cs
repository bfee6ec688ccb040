using Billing.ServiceDefaults.Validation;
using FluentValidation;
using Billing.Contracts.Fleet;
using MassTransit;

namespace Billing.Ledger.Ops;

/// <summary>Ops asks to re-send stored events of some types, stored in a time range, as one kind of ledger entry.</summary>
public sealed record StartReplay(string? Consumer, IReadOnlyList<string>? EventTypes, DateTimeOffset? From, DateTimeOffset? To);

public sealed class StartReplayValidator : AbstractValidator<StartReplay>
{
    public StartReplayValidator()
    {
        RuleFor(r => r.Consumer).Must(c => ReplayTarget.All.Any(t => t.Name == c))
            .WithMessage($"One of {string.Join(", ", ReplayTarget.All.Select(t => t.Name))}.");
        RuleFor(r => r.EventTypes).Must(t => t is null || t.Count <= 50).WithMessage("At most 50 event types.");
        RuleForEach(r => r.EventTypes).NotNull().Id();
        RuleFor(r => r.From).InYears();
        RuleFor(r => r.To).InYears();
    }
}

/// <summary>A replay and its progress (Marten document).</summary>
public sealed record ReplayRun(
    Guid Id, string Consumer, IReadOnlyList<string> EventTypes, DateTimeOffset? From, DateTimeOffset? To, long Total, long Published, bool Done, string? Error,
    DateTimeOffset StartedAt);

/// <summary>
/// The kinds of ledger entry a replay can send, the stored event types each takes, and how stored
/// events become entries (sent to their tenants' partitions). Replays are safe because the ledger
/// applies every entry once.
/// </summary>
public sealed record ReplayTarget(string Name, IReadOnlyList<Type> EventTypes, Func<IReadOnlyList<object>, IEnumerable<ILedgerEntry>> ToMessages)
{
    public const int PageSize = 500;

    /// <summary>The name Marten stores an event type under (its default naming: snake case).</summary>
    public static string EventName(Type eventType) => JasperFx.Events.EventTypeExtensions.GetEventTypeName(eventType, JasperFx.Events.EventNamingStyle.ClassicTypeName);

    public static readonly IReadOnlyList<ReplayTarget> All =
    [
        new("usage", [typeof(UsageRecorded)],
            events => [new UsageRecordedBatch(NewId.NextGuid(), events.Cast<UsageRecorded>().ToList())]),
        new("lease-lifecycle", [typeof(LeasePending), typeof(LeaseStarted), typeof(LeasePreemptionScheduled), typeof(LeaseEnded), typeof(LeaseNodeLeft), typeof(LeaseNodeReplaced), typeof(LeaseNodeJoined)],
            events => events.Cast<ILeaseFact>()),
    ];
}
