using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>A sandbox record (snake_case on the wire), read lazily; <see cref="Json"/> is the sandbox unchanged.</summary>
/// <param name="Json">The sandbox object as sent.</param>
public readonly record struct SandboxView(JsonElement Json)
{
    public string? Id => JsonFields.Text(Json, Names.Id);

    /// <summary>The status as spelled on the wire (<see cref="Contracts.Sandboxes.SandboxStatuses"/>).</summary>
    public string? Status => JsonFields.Text(Json, Names.Status);

    public string? RepoId => JsonFields.Text(Json, Names.RepoId);

    public string? WorkingBranch => JsonFields.Text(Json, Names.WorkingBranch);

    /// <summary>The time as sent (ISO-8601 UTC).</summary>
    public string? LastActiveAt => JsonFields.Text(Json, Names.LastActiveAt);

    /// <summary>The field names of a sandbox on the wire (as <see cref="Contracts.Sandboxes.Sandbox"/>).</summary>
    public static class Names
    {
        public const string Id = "id";
        public const string Status = "status";
        public const string RepoId = "repo_id";
        public const string WorkingBranch = "working_branch";
        public const string LastActiveAt = "last_active_at";
    }
}
