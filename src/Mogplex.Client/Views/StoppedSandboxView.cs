using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>[beyond] <c>POST /sandboxes/{id}/stop</c>: <c>{sandbox, alreadyStopped}</c>, read lazily; <see cref="Json"/> is the answer unchanged.</summary>
/// <param name="Json">The answer's data as sent.</param>
public readonly record struct StoppedSandboxView(JsonElement Json)
{
    public SandboxView Sandbox => new(JsonFields.Child(Json, Names.Sandbox));

    /// <summary>The sandbox had already stopped.</summary>
    public bool AlreadyStopped => JsonFields.Flag(Json, Names.AlreadyStopped);

    /// <summary>The field names of the answer on the wire.</summary>
    public static class Names
    {
        public const string Sandbox = "sandbox";
        public const string AlreadyStopped = "alreadyStopped";
    }
}
