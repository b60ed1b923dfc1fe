using System.Text.Json.Serialization;

namespace Mogplex.Contracts.Runs;

/// <summary>
/// The request body of <c>POST /runs</c>. A field left null is not written at all (omitted, not
/// <c>null</c>): the server tells the two apart for <c>rootDirectory</c> (omitted: the repo's
/// root directory; null: the repository root), and a client sends only what its user set. The
/// server parses the raw JSON itself so that every malformed field gets its documented message;
/// this type is what clients send.
/// </summary>
public sealed record StartRunRequest
{
    public required string RepoId { get; init; }
    public required string Prompt { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Harness { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? BaseBranch { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WorkingBranch { get; init; }

    /// <summary>Create <c>workingBranch</c> from the base; only JSON <c>true</c> does.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? CreateBranch { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RootDirectory { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ConversationId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WorkspaceSessionId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Mode { get; init; }

    /// <summary>[beyond] <c>auto</c> (default: nothing is asked) or <c>approval</c> (every tool call goes through <c>permissions</c>; what they leave open waits for a person).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PermissionMode { get; init; }

    /// <summary>[beyond] the model for the harness (default: the server's configured one).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Model { get; init; }

    /// <summary>[beyond] the run stays open between turns until finish, cancel or the idle limit (session harnesses only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Interactive { get; init; }

    /// <summary>[beyond] allow / ask / deny rules (<c>bash:git *</c>, <c>write:src/**</c>, <c>read:*</c>, <c>mcp:server/tool</c>, <c>net:https://host/*</c>), at most 200 of at most 500 characters.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PermissionRules? Permissions { get; init; }
}
