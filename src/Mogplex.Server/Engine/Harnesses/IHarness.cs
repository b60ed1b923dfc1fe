using System.Text.Json.Nodes;
using Mogplex.Server.Engine.Processes;
using Mogplex.Storage;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>An agent runtime a run can name (<c>codex</c>, <c>claude-code</c>, <c>exec</c>).</summary>
public interface IHarness
{
    string Name { get; }

    /// <summary>The process to start for a run in a prepared sandbox. The prompt goes on stdin, never in argv.</summary>
    ProcessSpec BuildProcess(HarnessContext context);

    /// <summary>A fresh parser for one run's output (it learns the run's paths from <paramref name="context"/>).</summary>
    IHarnessOutputParser CreateParser(HarnessContext context);
}

/// <summary>Where and for what a harness runs: the run's folder in the checkout, the sandbox home, the sandbox, the checkout.</summary>
public sealed record HarnessContext(RunRecord Run, string WorkingDirectory, string HomeDirectory, string SandboxDirectory, string CheckoutDirectory);

/// <summary>
/// Turns one harness's output lines into v1 events. Unknown or malformed lines become <c>log</c>
/// events, never an exception.
/// </summary>
public interface IHarnessOutputParser
{
    IReadOnlyList<HarnessEvent> Parse(HarnessProcess.OutputLine line);

    /// <summary>Decides the run's outcome from what the stream reported and the exit code together.</summary>
    HarnessOutcome Complete(int exitCode);
}

/// <summary>A normalized event, not yet sanitized, and the usage it reports (summed into the run).</summary>
public sealed record HarnessEvent(string Type, string? Message, string? ToolName = null, JsonNode? Payload = null, UsageDelta? Usage = null);

/// <summary>Success, or failure with a reason for the run's <c>error</c>.</summary>
public sealed record HarnessOutcome(bool Succeeded, string? Error)
{
    public static readonly HarnessOutcome Success = new(true, null);

    public static HarnessOutcome Failure(string error) => new(false, error);
}
