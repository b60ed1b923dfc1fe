namespace Mogplex.Cli.Cockpit.Transport;

/// <summary>A transport that can ask its server for a run's diff (<c>GET /runs/{id}/diff</c>); a replay cannot.</summary>
public interface IDiffSource
{
    /// <summary>The run's diff, or why there is none to show (never thrown).</summary>
    Task<RunDiffAnswer> DiffAsync(string runId, CancellationToken ct);
}
