using Mogplex.Server.Engine.Isolation;

namespace Mogplex.Server.Engine.Processes;

/// <summary>
/// What to run for a harness: the command, its environment (complete: nothing is inherited), the
/// text for its stdin, and what it may see and use when confined (<see cref="SandboxLaunch"/>).
/// </summary>
public sealed record ProcessSpec
{
    public required string FileName { get; init; }
    public IReadOnlyList<string> Arguments { get; init; } = [];
    public required string WorkingDirectory { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public string? StandardInput { get; init; }

    /// <summary>
    /// Stdin stays open after <see cref="StandardInput"/> for lines written while the process runs
    /// (a session harness's protocol: <see cref="HarnessProcess.WriteLine"/>, <see cref="HarnessProcess.CloseInput"/>).
    /// </summary>
    public bool KeepInputOpen { get; init; }

    /// <summary>Values that must never appear in events (the harness's configured secrets).</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>
    /// Folders in the sandbox where the harness keeps its own state, which can hold its environment
    /// (secrets included): removed when the process has ended (<see cref="HarnessEnvironment.RemoveStateDirectories"/>).
    /// </summary>
    public IReadOnlyList<string> StateDirectories { get; init; } = [];

    /// <summary>Folders the process may write (the checkout and the sandbox home), at the same path inside.</summary>
    public IReadOnlyList<string> WritablePaths { get; init; } = [];

    /// <summary>Folders it may read (the repo mirror, the harness tools), at the same path inside.</summary>
    public IReadOnlyList<string> ReadOnlyPaths { get; init; } = [];

    /// <summary>Files made for the sandbox and shown read-only at another path (its <c>/etc/passwd</c> and <c>/etc/group</c>).</summary>
    public IReadOnlyList<(string Source, string Target)> FileBinds { get; init; } = [];

    /// <summary>The unprivileged host account it runs as when the server is root; null: the server's own (never root).</summary>
    public SandboxUser? RunAs { get; init; }

    /// <summary>Its network: own namespace with no way out, own namespace with the egress bridge, or the host's.</summary>
    public SandboxNetworkMode Network { get; init; } = SandboxNetworkMode.None;

    /// <summary>Listeners started inside the sandbox's network namespace before the command (the egress bridge).</summary>
    public EgressBridge? Bridge { get; init; }

    /// <summary>Resource limits: the run's control groups to enter and the rlimits to set.</summary>
    public ResourceLimits? Limits { get; init; }

    /// <summary>The bubblewrap executable (<c>Sandbox:Bubblewrap</c>).</summary>
    public string Bubblewrap { get; init; } = "bwrap";

    /// <summary>Size of the sandbox's private <c>/tmp</c> (a tmpfs; its pages count as the run's memory).</summary>
    public long TmpBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>The longest output line kept whole (<c>Runs:MaxLineBytes</c>); a longer one is cut (<see cref="BoundedLineReader"/>).</summary>
    public int MaxLineBytes { get; init; } = BoundedLineReader.DefaultMaxLineBytes;
}
