using Mogplex.Cli.Cockpit.State;

namespace Mogplex.Cli.Cockpit.Transport;

/// <summary>
/// Where the cockpit's events come from and its commands go (cockpit.md, Transports): chosen once
/// at start and named in the header. Events flow into the one reducer; a command answers null when
/// it was taken, or the reason it was not (shown inline, never thrown at the screen).
/// </summary>
public interface ICockpitTransport : IAsyncDisposable
{
    /// <summary><c>process</c>, <c>daemon</c> or <c>stdio</c>.</summary>
    string Name { get; }

    IAsyncEnumerable<CockpitEvent> ReadAsync(CancellationToken ct);

    Task<string?> SendAsync(CockpitCommand command, CancellationToken ct);
}

/// <summary>What a person asks the cockpit to do to a run.</summary>
public abstract record CockpitCommand
{
    private CockpitCommand()
    {
    }

    /// <summary>A new interactive run; on <paramref name="RepoId"/> when the cockpit knows one (the selected run's); with <paramref name="Harness"/> and in <paramref name="PermissionMode"/> (<c>auto</c>, <c>approval</c>), each null for the server's default.</summary>
    public sealed record StartRun(string Prompt, string? RepoId = null, string? PermissionMode = null, string? Harness = null) : CockpitCommand;

    public sealed record SendMessage(string RunId, string Text, bool Steer) : CockpitCommand;

    public sealed record Interrupt(string RunId) : CockpitCommand;

    public sealed record Finish(string RunId) : CockpitCommand;

    public sealed record Cancel(string RunId) : CockpitCommand;

    public sealed record Decide(string RunId, string ApprovalId, bool Approve, string? Reason) : CockpitCommand;
}
