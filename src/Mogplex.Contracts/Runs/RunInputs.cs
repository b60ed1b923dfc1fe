namespace Mogplex.Contracts.Runs;

/// <summary>[beyond] The body of <c>POST /runs/{id}/messages</c> (interactive.md).</summary>
public sealed record SendMessageRequest
{
    /// <summary>The follow-up, at most 100,000 characters.</summary>
    public required string Text { get; init; }

    /// <summary><c>queue</c> (default): after the current turn; <c>steer</c>: into the running turn where the harness can (Codex), else queued.</summary>
    public string? Mode { get; init; }
}

/// <summary>[beyond] 202 of <c>POST /runs/{id}/messages</c>: the message's id, and whether it waits for the current turn to end.</summary>
public sealed record MessageAccepted(string MessageId, bool Queued);

/// <summary>[beyond] 202 of <c>POST /runs/{id}/interrupt</c> and <c>/finish</c>: the run and what was asked of it.</summary>
public sealed record RunInputAccepted(string RunId, string InputId, string Kind);

/// <summary>[beyond] <c>GET /runs/{id}/diff</c>: the changes against <c>base</c> (the run's start commit), live while it works, the delivered <c>head</c> afterwards.</summary>
public sealed record RunDiff(string? Base, string? Head, IReadOnlyList<RunDiffFileEntry> Files, string Patch, bool Truncated);

/// <summary>[beyond] One changed file of a run's diff: <c>added</c>, <c>modified</c>, <c>deleted</c>, <c>type_changed</c>; line counts null for a binary file.</summary>
public sealed record RunDiffFileEntry(string Path, string Status, int? Additions, int? Deletions);
