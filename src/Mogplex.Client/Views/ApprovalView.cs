using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>[beyond] A run's approval (a tool call left to a person), read lazily; <see cref="Json"/> is the approval unchanged.</summary>
/// <param name="Json">The approval object as sent.</param>
public readonly record struct ApprovalView(JsonElement Json)
{
    public string? Id => JsonFields.Text(Json, Names.Id);

    /// <summary><c>pending</c>, <c>approved</c>, <c>rejected</c> or <c>expired</c>.</summary>
    public string? Status => JsonFields.Text(Json, Names.Status);

    /// <summary><c>low</c>, <c>medium</c> or <c>high</c>.</summary>
    public string? Risk => JsonFields.Text(Json, Names.Risk);

    /// <summary><c>run_command</c>, <c>apply_patch</c>, ….</summary>
    public string? Action => JsonFields.Text(Json, Names.Action);

    /// <summary>What a person is shown first: the command, or the files.</summary>
    public string? Target => JsonFields.Text(Json, Names.Target);

    /// <summary>The field names of an approval on the wire.</summary>
    public static class Names
    {
        /// <summary>The field that holds the approval in the answer to a decision.</summary>
        public const string Envelope = "approval";

        public const string Id = "id";
        public const string Status = "status";
        public const string Risk = "risk";
        public const string Action = "action";
        public const string Target = "target";
    }
}
