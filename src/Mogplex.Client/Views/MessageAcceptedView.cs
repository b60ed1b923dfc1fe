using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>[beyond] The answer to sending a run a message: <c>{messageId, queued}</c>, read lazily; <see cref="Json"/> is the answer unchanged.</summary>
/// <param name="Json">The answer's data as sent.</param>
public readonly record struct MessageAcceptedView(JsonElement Json)
{
    public string? MessageId => JsonFields.Text(Json, Names.MessageId);

    /// <summary>The message waits for the running turn to end.</summary>
    public bool Queued => JsonFields.Flag(Json, Names.Queued);

    /// <summary>The field names of the answer on the wire.</summary>
    public static class Names
    {
        public const string MessageId = "messageId";
        public const string Queued = "queued";
    }
}
