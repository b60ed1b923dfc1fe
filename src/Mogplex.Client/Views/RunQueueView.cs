using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>
/// [beyond] A pending run's <c>queue</c> object (<see cref="Contracts.Runs.RunQueuePlace"/>), read
/// lazily from the JSON the server sent; undefined (or null) while the run does not wait.
/// </summary>
/// <param name="Json">The <c>queue</c> object as sent.</param>
public readonly record struct RunQueueView(JsonElement Json)
{
    /// <summary>Whether the server sent a place (an object): the run waits.</summary>
    public bool IsWaiting => Json.ValueKind == JsonValueKind.Object;

    /// <summary>1-based place among the runs that will be claimed before it in its line (null when not sent as an integer).</summary>
    public int? Position => JsonFields.Count(Json, Names.Position);

    /// <summary>What the run waits for (<see cref="Contracts.Runs.RunWaitReasons"/>: <c>branch</c>, <c>worker</c>, <c>user-limit</c>).</summary>
    public string? WaitingFor => JsonFields.Text(Json, Names.WaitingFor);

    /// <summary>The field names of a run's queue place on the wire.</summary>
    public static class Names
    {
        public const string Position = "position";
        public const string WaitingFor = "waitingFor";
    }
}
