using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>[beyond] The answer to interrupt or finish: <c>{runId, inputId, kind}</c>, read lazily; <see cref="Json"/> is the answer unchanged.</summary>
/// <param name="Json">The answer's data as sent.</param>
public readonly record struct RunInputAcceptedView(JsonElement Json)
{
    public string? RunId => JsonFields.Text(Json, Names.RunId);

    public string? InputId => JsonFields.Text(Json, Names.InputId);

    /// <summary><c>interrupt</c> or <c>finish</c>.</summary>
    public string? Kind => JsonFields.Text(Json, Names.Kind);

    /// <summary>The field names of the answer on the wire.</summary>
    public static class Names
    {
        public const string RunId = "runId";
        public const string InputId = "inputId";
        public const string Kind = "kind";
    }
}
