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
    [Range(1, 256)]
    public int MaxConcurrent { get; set; } = 4;

    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromMinutes(30);

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
