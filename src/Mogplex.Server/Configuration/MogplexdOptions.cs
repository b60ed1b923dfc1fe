using System.ComponentModel.DataAnnotations;

namespace Mogplex.Server.Configuration;

/// <summary>Section <c>Api</c>: request handling.</summary>
public sealed class ApiOptions
{
    /// <summary>Largest accepted request body; larger ones get 413.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Seconds between SSE keep-alive comments.</summary>
    [Range(1, 3600)]
    public int SseKeepAliveSeconds { get; set; } = 15;

    /// <summary>Whether <c>GET /runs/{id}/events</c> offers the live SSE stream.</summary>
    public bool EventStream { get; set; } = true;

    /// <summary>How long <c>POST /runs/{id}/cancel</c> waits for an active run to stop.</summary>
    [Range(0, 600)]
    public int CancelWaitSeconds { get; set; } = 10;
}

/// <summary>Section <c>RateLimits</c>: per-token limits (defaults from the v1 contract).</summary>
public sealed class RateLimitOptions
{
    [Range(1, int.MaxValue)]
    public int RequestsPerWindow { get; set; } = 60;

    [Range(1, 86400)]
    public int WindowSeconds { get; set; } = 60;

    [Range(1, int.MaxValue)]
    public int RunStartsPerMinute { get; set; } = 10;

    [Range(1, int.MaxValue)]
    public int RunStartsPerHour { get; set; } = 30;

    [Range(1, int.MaxValue)]
    public int RunStartsPerDay { get; set; } = 150;
}

/// <summary>Section <c>Runs</c>: execution limits (used by the run engine).</summary>
public sealed class RunsOptions
{
    /// <summary>Runs this node executes at once (its workers).</summary>
    [Range(1, 256)]
    public int MaxConcurrent { get; set; } = 4;

    /// <summary>
    /// Claimed active runs one user may have at once, counted on every node: a further run of that
    /// user waits <c>pending</c>, holding no worker, so other users' runs are claimed first. Unset:
    /// half of <see cref="MaxConcurrent"/>, at least 1 (<see cref="ActivePerUserLimit"/>).
    /// </summary>
    [Range(1, 4096)]
    public int? MaxConcurrentPerUser { get; set; }

    /// <summary>The per-user limit in force: <see cref="MaxConcurrentPerUser"/>, else its default.</summary>
    public int ActivePerUserLimit => MaxConcurrentPerUser ?? Math.Max(1, MaxConcurrent / 2);

    /// <summary>
    /// How long a run may work. An interactive run's clock stops between turns (while it waits for
    /// a person's follow-up) and goes on with the next turn.
    /// </summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>An interactive run with no turn and no input for this long finishes (delivers, then <c>success</c>).</summary>
    public TimeSpan InteractiveIdle { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a claim holds without a heartbeat (renewed every third of it).</summary>
    [Range(3, 3600)]
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>
    /// How often idle workers look for queued runs and do their maintenance (reap expired leases,
    /// stop idle sandboxes). A backstop: a queued run wakes the workers of every node at once.
    /// </summary>
    [Range(0.05, 3600)]
    public double PollSeconds { get; set; } = 1;

    /// <summary>Grace between SIGTERM and SIGKILL when a run is cancelled.</summary>
    [Range(0, 60)]
    public double StopGraceSeconds { get; set; } = 1;

    /// <summary>How long a pending approval waits for a person before it is rejected (<c>by: timeout</c>).</summary>
    public TimeSpan ApprovalTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Processes (and threads) one run may have at once; a fork past it fails the run.</summary>
    [Range(16, 1_000_000)]
    public long MaxProcesses { get; set; } = 1024;

    /// <summary>Memory one run may use (its processes and its private /tmp); a process killed for it fails the run.</summary>
    [Range(64L * 1024 * 1024, long.MaxValue)]
    public long MaxMemoryBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Largest file a run's process may write (RLIMIT_FSIZE).</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// The longest line of harness (and install command) output kept whole, in bytes; a longer
    /// line keeps this much behind a <c>[line truncated: N bytes, first K kept]</c> marker.
    /// </summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxLineBytes { get; set; } = DefaultMaxLineBytes;

    /// <summary>1 MiB.</summary>
    public const int DefaultMaxLineBytes = 1024 * 1024;

    /// <summary>
    /// Events stored per run from the harness's output; past it one <c>log</c> event says so,
    /// the run goes on, and a last <c>log</c> event counts what was not stored.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxEvents { get; set; } = 100_000;
}

/// <summary>Section <c>Sandbox</c>.</summary>
public sealed class SandboxOptions
{
    /// <summary><c>auto</c> (bubblewrap when present), <c>bwrap</c> or <c>none</c>.</summary>
    [RegularExpression("^(auto|bwrap|none)$", ErrorMessage = "Sandbox:Isolation must be auto, bwrap or none")]
    public string Isolation { get; set; } = "auto";

    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Prepared checkouts kept per repo and base branch (0 turns the warm pool off). Two absorb a
    /// run started while the previous one's refill is still writing files.
    /// </summary>
    [Range(0, 16)]
    public int WarmCheckouts { get; set; } = 2;

    /// <summary>
    /// What a sandbox may reach: <c>none</c> (own network namespace, loopback only), <c>model</c> (the
    /// default: own namespace; the harnesses' model endpoints and <see cref="AllowedHosts"/> through
    /// the server's egress proxy) or <c>host</c> (the host's network, as the server sees it).
    /// </summary>
    [RegularExpression("^(none|model|host)$", ErrorMessage = "Sandbox:Network must be none, model or host")]
    public string Network { get; set; } = "model";

    /// <summary>
    /// Destinations a sandbox may reach through its egress proxy (network <c>model</c>) besides the
    /// harnesses' model endpoints: <c>host</c> (any port), <c>host:port</c>, <c>*.example.org</c>
    /// (its subdomains), IP literals (<c>10.0.0.5:8080</c>, <c>[fd00::1]:443</c>). Checked at start by
    /// the engine's <c>AllowedHostsValidation</c>.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>The bubblewrap executable (found on PATH unless a path).</summary>
    public string Bubblewrap { get; set; } = "bwrap";

    /// <summary>Host uids sandboxes run as when the server is root: <c>first-last</c>, one per sandbox, no login.</summary>
    [RegularExpression("^[0-9]+-[0-9]+$", ErrorMessage = "Sandbox:UidRange must be first-last")]
    public string UidRange { get; set; } = "2000000000-2000999999";

    /// <summary>Disk one sandbox may fill (checkout, home); measured while a run works, past it the run fails.</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long MaxDiskBytes { get; set; } = 20L * 1024 * 1024 * 1024;

    /// <summary>Size of a sandbox's private /tmp (in memory: it counts toward Runs:MaxMemoryBytes).</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long TmpBytes { get; set; } = 1024L * 1024 * 1024;
}

/// <summary>Section <c>Harnesses</c>: which harnesses runs may name besides codex and claude-code.</summary>
public sealed class HarnessOptions
{
    /// <summary>Enables the <c>exec</c> harness (also enabled by <c>--dev</c>).</summary>
    public bool ExecEnabled { get; set; }

    /// <summary><c>Harnesses:Codex</c>: the OpenAI Codex CLI.</summary>
    public AgentHarnessOptions Codex { get; set; } = new() { Command = "codex", Model = "gpt-5.5", ApiKeyVariable = "OPENAI_API_KEY" };

    /// <summary><c>Harnesses:ClaudeCode</c>: the Claude Code CLI.</summary>
    public AgentHarnessOptions ClaudeCode { get; set; } = new() { Command = "claude", Model = "claude-sonnet-4-5", ApiKeyVariable = "ANTHROPIC_API_KEY" };
}

/// <summary>
/// How one agent CLI is started. <see cref="Environment"/> is plain configuration (shown in
/// events like any other text); <see cref="Secrets"/> are redacted from every event and run error,
/// never written to disk by the server, and the harness's own state (which can hold its
/// environment) is removed when the run ends.
/// </summary>
public sealed class AgentHarnessOptions
{
    /// <summary>The executable (found on PATH, including the project's pinned harness tools).</summary>
    public string Command { get; set; } = "";

    public string? Model { get; set; }

    /// <summary>
    /// The model API's root URL when it is not the vendor's (a proxy, a gateway, a local stand-in),
    /// with or without a final <c>/v1</c>: Codex is given the <c>/v1</c> form, Claude Code the root.
    /// </summary>
    public string? BaseUrl { get; set; }

    /// <summary>The environment variable that carries the model key (a secret wherever it is configured).</summary>
    public string ApiKeyVariable { get; set; } = "";

    /// <summary>Extra plain environment for the harness process (e.g. <c>ANTHROPIC_MODEL</c>), not redacted.</summary>
    public Dictionary<string, string> Environment { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Secret environment for the harness process (e.g. <c>OPENAI_API_KEY</c>): redacted everywhere.</summary>
    public Dictionary<string, string> Secrets { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Extra arguments appended to the command line.</summary>
    public List<string> ExtraArguments { get; set; } = [];
}
