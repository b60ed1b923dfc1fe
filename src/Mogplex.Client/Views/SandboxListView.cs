using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary><c>GET /sandboxes</c>: <c>{sandboxes}</c>, read lazily; <see cref="Json"/> is the answer unchanged.</summary>
/// <param name="Json">The answer's data as sent.</param>
public readonly record struct SandboxListView(JsonElement Json)
{
    /// <summary>The sandboxes, most recently active first (none when the field is not an array).</summary>
    public IEnumerable<SandboxView> Sandboxes => JsonFields.Items(Json, Names.Sandboxes).Select(s => new SandboxView(s));

    /// <summary>The field names of the sandbox list on the wire.</summary>
    public static class Names
    {
        public const string Sandboxes = "sandboxes";
    }
}
