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
}

/// <summary>Section <c>Harnesses</c>: which harnesses runs may name besides codex and claude-code.</summary>
public sealed class HarnessOptions
{
    /// <summary>Enables the <c>exec</c> harness (also enabled by <c>--dev</c>).</summary>
    public bool ExecEnabled { get; set; }
}
