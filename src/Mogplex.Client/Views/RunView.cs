using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>
/// A run detail, read lazily from the JSON the server sent; <see cref="Json"/> is that JSON
/// unchanged (unknown fields included) for <c>--json</c>. A missing field, or one of another type,
/// reads as null (false for flags); a string field holding a number or boolean reads as its JSON text.
/// </summary>
/// <param name="Json">The run object as sent.</param>
public readonly record struct RunView(JsonElement Json)
{
    public string? Id => JsonFields.Text(Json, Names.Id);

    /// <summary>The status as spelled on the wire (<see cref="Contracts.Runs.RunStatuses"/>).</summary>
    public string? Status => JsonFields.Text(Json, Names.Status);

    public string? Harness => JsonFields.Text(Json, Names.Harness);

    public string? RepoId => JsonFields.Text(Json, Names.RepoId);

    public string? SandboxId => JsonFields.Text(Json, Names.SandboxId);

    public RunBranchView Branch => new(JsonFields.Child(Json, Names.Branch));

    public string? EventsUrl => JsonFields.Text(Json, Names.EventsUrl);

    public string? CancelUrl => JsonFields.Text(Json, Names.CancelUrl);

    /// <summary>The creation time as sent (ISO-8601 UTC).</summary>
    public string? CreatedAt => JsonFields.Text(Json, Names.CreatedAt);

    /// <summary>The last update time as sent (ISO-8601 UTC).</summary>
    public string? UpdatedAt => JsonFields.Text(Json, Names.UpdatedAt);

    public string? Error => JsonFields.Text(Json, Names.Error);

    /// <summary>[beyond] The commit delivered to the working branch, if any.</summary>
    public string? Commit => JsonFields.Text(Json, Names.Commit);

    /// <summary>[beyond] <c>auto</c> or <c>approval</c>.</summary>
    public string? PermissionMode => JsonFields.Text(Json, Names.PermissionMode);

    /// <summary>[beyond] What the run waits for: <c>approval</c>, <c>input</c>, or null.</summary>
    public string? Awaiting => JsonFields.Text(Json, Names.Awaiting);

    /// <summary>[beyond] How many of its approvals are pending (null when not sent as an integer).</summary>
    public int? PendingApprovals => JsonFields.Count(Json, Names.PendingApprovals);

    /// <summary>[beyond] Whether the run stays open between turns.</summary>
    public bool Interactive => JsonFields.Flag(Json, Names.Interactive);

    /// <summary>[beyond] How many turns the harness started (null when not sent as an integer).</summary>
    public int? Turns => JsonFields.Count(Json, Names.Turns);

    /// <summary>[beyond] Why a pending run waits and its place (<see cref="RunQueueView.IsWaiting"/> false otherwise).</summary>
    public RunQueueView Queue => new(JsonFields.Child(Json, Names.Queue));

    /// <summary>Only on the answer to <c>POST /runs</c>: the key matched an existing run.</summary>
    public bool Replayed => JsonFields.Flag(Json, Names.Replayed);

    /// <summary>The field names of a run on the wire (camelCase, as <see cref="Contracts.Runs.RunDetail"/>).</summary>
    public static class Names
    {
        /// <summary>The field that holds the run in <c>GET /runs/{id}</c>, the events page and the cancel answer.</summary>
        public const string Envelope = "run";

        public const string Id = "runId";
        public const string Status = "status";
        public const string Harness = "harness";
        public const string RepoId = "repoId";
        public const string SandboxId = "sandboxId";
        public const string Branch = "branch";
        public const string EventsUrl = "eventsUrl";
        public const string CancelUrl = "cancelUrl";
        public const string CreatedAt = "createdAt";
        public const string UpdatedAt = "updatedAt";
        public const string Error = "error";
        public const string Commit = "commit";
        public const string PermissionMode = "permissionMode";
        public const string Awaiting = "awaiting";
        public const string PendingApprovals = "pendingApprovals";
        public const string Interactive = "interactive";
        public const string Turns = "turns";
        public const string Queue = "queue";
        public const string Replayed = "replayed";
    }
}
