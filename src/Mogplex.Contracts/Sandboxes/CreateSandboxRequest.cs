using System.Text.Json.Serialization;

namespace Mogplex.Contracts.Sandboxes;

/// <summary>
/// The request body of <c>POST /sandboxes</c> (camelCase, like the run start; the answer is
/// snake_case). The branch fields follow the same rules as a run start's (<c>POST /runs</c>).
/// </summary>
public sealed record CreateSandboxRequest
{
    public required string RepoId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? BaseBranch { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WorkingBranch { get; init; }

    /// <summary>Create <c>workingBranch</c> from the base; only JSON <c>true</c> does.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? CreateBranch { get; init; }

    /// <summary>Omitted: the repository's root directory; null or <c>.</c>: the repository root.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RootDirectory { get; init; }
}
