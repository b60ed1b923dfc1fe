namespace Mogplex.Server.Engine.Processes;

/// <summary>How harness processes are isolated. Resolved once at start from <c>Sandbox:Isolation</c>.</summary>
public enum IsolationMode
{
    /// <summary>A plain child process in its own session and process group.</summary>
    None,

    /// <summary>bubblewrap: read-only system, writable sandbox, private /tmp, own PID namespace.</summary>
    Bubblewrap,
}
