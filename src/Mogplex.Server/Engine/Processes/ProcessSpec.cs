namespace Mogplex.Server.Engine.Processes;

/// <summary>
/// What to run for a harness: the command, its environment (complete: nothing is inherited), the
/// text for its stdin, and what it may see when isolated.
/// </summary>
public sealed record ProcessSpec
{
    public required string FileName { get; init; }
    public IReadOnlyList<string> Arguments { get; init; } = [];
    public required string WorkingDirectory { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public string? StandardInput { get; init; }

    /// <summary>Values that must never appear in events (the harness's configured secrets).</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>
    /// Folders in the sandbox where the harness keeps its own state, which can hold its environment
    /// (secrets included): removed when the process has ended (<see cref="HarnessEnvironment.RemoveStateDirectories"/>).
    /// </summary>
    public IReadOnlyList<string> StateDirectories { get; init; } = [];

    /// <summary>Folders the process may write (the sandbox).</summary>
    public IReadOnlyList<string> WritablePaths { get; init; } = [];

    /// <summary>Folders inside hidden ones that it may read (the repo mirror, the harness tools).</summary>
    public IReadOnlyList<string> ReadOnlyPaths { get; init; } = [];

    /// <summary>Folders replaced by an empty tmpfs (the data folder, the server user's home).</summary>
    public IReadOnlyList<string> HiddenPaths { get; init; } = [];
}
