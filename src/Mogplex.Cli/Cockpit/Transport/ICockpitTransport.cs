using Mogplex.Cli.Cockpit.State;
using Mogplex.Contracts.Runs;

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

    /// <summary>
    /// A new interactive run; on <paramref name="RepoId"/> when the cockpit knows one (the selected
    /// run's); with <paramref name="Harness"/>, in <paramref name="PermissionMode"/> (<c>auto</c>,
    /// <c>approval</c>) and with the rules of the permissions files (<paramref name="Permissions"/>),
    /// with <paramref name="Model"/>, each null for the server's default.
    /// </summary>
    public sealed record StartRun(string Prompt, string? RepoId = null, string? PermissionMode = null, string? Harness = null, PermissionRules? Permissions = null, string? Model = null) : CockpitCommand;

    public sealed record SendMessage(string RunId, string Text, bool Steer) : CockpitCommand;

    public sealed record Interrupt(string RunId) : CockpitCommand;

    public sealed record Finish(string RunId) : CockpitCommand;

    public sealed record Cancel(string RunId) : CockpitCommand;

    public sealed record Decide(string RunId, string ApprovalId, bool Approve, string? Reason) : CockpitCommand;
}

/// <summary>A transport that signs in with a token a person gives (the daemon transport; the process transport makes its own).</summary>
public interface ICockpitSignIn
{
    /// <summary>The server, as <c>auth.json</c> records it.</summary>
    string Address { get; }

    bool SignedIn { get; }

    /// <summary>Uses <paramref name="token"/> when the server takes it (null); the reason it does not, otherwise (the previous token is kept then).</summary>
    Task<string?> SignInAsync(string token, CancellationToken ct);

    /// <summary>Sends no token from now on.</summary>
    void SignOut();
}
