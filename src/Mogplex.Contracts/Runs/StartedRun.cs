using System.Diagnostics.CodeAnalysis;

namespace Mogplex.Contracts.Runs;

/// <summary>The answer to <c>POST /runs</c>: the run detail plus <c>replayed</c>, flat in <c>data</c>.</summary>
public sealed record StartedRun : RunDetail
{
    public StartedRun()
    {
    }

    [SetsRequiredMembers]
    public StartedRun(RunDetail detail, bool replayed)
        : base(detail)
    {
        Replayed = replayed;
    }

    public required bool Replayed { get; init; }
}
