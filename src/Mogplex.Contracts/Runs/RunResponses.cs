namespace Mogplex.Contracts.Runs;

/// <summary><c>GET /runs/{id}</c>: <c>{"run": ...}</c>.</summary>
public sealed record RunEnvelope(RunDetail Run);

/// <summary>[beyond] <c>GET /runs</c>: newest first, with an opaque cursor.</summary>
public sealed record RunList(IReadOnlyList<RunDetail> Runs, string? NextCursor);

/// <summary><c>POST /runs/{id}/cancel</c>.</summary>
public sealed record CancelRunResult(RunDetail Run, string Status, bool AlreadyTerminal);

/// <summary>The request body of <c>POST /runs</c> (documentation only: the server parses the raw JSON
/// itself so that every malformed field gets its documented message).</summary>
public sealed record StartRunRequest
{
    public required string RepoId { get; init; }
    public required string Prompt { get; init; }
    public string? Harness { get; init; }
    public string? BaseBranch { get; init; }
    public string? WorkingBranch { get; init; }
    public bool? CreateBranch { get; init; }
    public string? RootDirectory { get; init; }
    public string? ConversationId { get; init; }
    public string? WorkspaceSessionId { get; init; }
    public string? Mode { get; init; }

    /// <summary>[beyond] <c>auto</c> (default: nothing is asked) or <c>approval</c> (every tool call goes through <see cref="Permissions"/>; what they leave open waits for a person).</summary>
    public string? PermissionMode { get; init; }

    /// <summary>[beyond] allow / ask / deny rules (<c>bash:git *</c>, <c>write:src/**</c>, <c>read:*</c>, <c>mcp:server/tool</c>, <c>net:https://host/*</c>), at most 200 of at most 500 characters.</summary>
    public PermissionRules? Permissions { get; init; }

    /// <summary>[beyond] the model for the harness (default: the server's configured one).</summary>
    public string? Model { get; init; }
}

/// <summary>[beyond] A run's permission rules, each <c>kind:glob[@source]</c>.</summary>
public sealed record PermissionRules
{
    public IReadOnlyList<string>? Allow { get; init; }
    public IReadOnlyList<string>? Ask { get; init; }
    public IReadOnlyList<string>? Deny { get; init; }
}
