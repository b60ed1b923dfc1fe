using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary><c>POST /runs/{id}/cancel</c>: <c>{run, status, alreadyTerminal}</c>, read lazily; <see cref="Json"/> is the answer unchanged.</summary>
/// <param name="Json">The answer's data as sent.</param>
public readonly record struct CancelResultView(JsonElement Json)
{
    public RunView Run => new(JsonFields.Child(Json, RunView.Names.Envelope));

    /// <summary>The run's status after the call.</summary>
    public string? Status => JsonFields.Text(Json, Names.Status);

    /// <summary>The run was already terminal and is left as it was.</summary>
    public bool AlreadyTerminal => JsonFields.Flag(Json, Names.AlreadyTerminal);

    /// <summary>The field names of the cancel answer on the wire (the run is <see cref="RunView.Names.Envelope"/>).</summary>
    public static class Names
    {
        public const string Status = "status";
        public const string AlreadyTerminal = "alreadyTerminal";
    }
}
