using System.Text.Json;
using Mogplex.Cli.Cockpit.State;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Json;

namespace Mogplex.Cli.Cockpit.Transport;

/// <summary>
/// Reads the cockpit's JSONL, line by line, into <see cref="CockpitEvent"/>s. Accepted, so that
/// what the headless commands print replays as is:
/// <list type="bullet">
/// <item>an event, as <c>mogplex runs events &lt;id&gt; --json</c> prints it (it belongs to the run
/// named last, or to <c>runId</c> when the line has one: an export);</item>
/// <item><c>{"runId": …, "status": …}</c>, the last line of <c>runs events --follow --json</c>;</item>
/// <item><c>{"type": "snapshot", "run": {…}}</c>: a run as <c>GET /runs/{id}</c> describes it.</item>
/// </list>
/// Anything else (not JSON, another shape, a line over <see cref="MaxLineChars"/>) is skipped and
/// counted in <see cref="Skipped"/>: a bad line never stops a replay.
/// </summary>
public sealed class JsonlEvents
{
    /// <summary>The longest line read (a run's whole detail fits many times over).</summary>
    public const int MaxLineChars = 4 * 1024 * 1024;

    /// <summary>The run events without a <c>runId</c> belong to before any line named one.</summary>
    public const string UnnamedRun = "stdin";

    private string _runId = UnnamedRun;

    public int Skipped { get; private set; }

    /// <summary>What one line says, or nothing (skipped lines are counted).</summary>
    public IReadOnlyList<CockpitEvent> Read(string line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return [];
        }

        try
        {
            if (line.Length > MaxLineChars)
            {
                throw new JsonException("line too long");
            }

            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("not an object");
            }

            if (Str(root, "type") == "snapshot" && root.TryGetProperty("run", out var run) && Summary(run) is { } summary)
            {
                _runId = summary.Id;
                return [new CockpitEvent.RunSnapshot(summary)];
            }

            if (root.TryGetProperty("seq", out _) && root.TryGetProperty("type", out _))
            {
                var e = root.Deserialize(MogplexJsonContext.Default.RunEvent) ?? throw new JsonException("no event");
                if (Str(root, "runId") is { Length: > 0 } named)
                {
                    _runId = named;
                }

                return [new CockpitEvent.RunEventArrived(_runId, e)];
            }

            if (Str(root, "runId") is { Length: > 0 } id && Str(root, "status") is { } status)
            {
                _runId = id;
                return [new CockpitEvent.RunSnapshot(new RunSummary(id) { Status = status })];
            }

            throw new JsonException("not an event, a snapshot or a follow's end");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            Skipped++;
            return [];
        }
    }

    /// <summary>A run detail (<c>GET /runs/{id}</c>'s <c>run</c>) as a summary; null without a <c>runId</c>.</summary>
    public static RunSummary? Summary(JsonElement run)
    {
        if (run.ValueKind != JsonValueKind.Object || Str(run, "runId") is not { Length: > 0 } id)
        {
            return null;
        }

        return new RunSummary(id)
        {
            Status = Str(run, "status"),
            Harness = Str(run, "harness"),
            RepoId = Str(run, "repoId"),
            Model = Str(run, "model"),
            PermissionMode = Str(run, "permissionMode"),
            Branch = run.TryGetProperty("branch", out var b) && b.ValueKind == JsonValueKind.Object ? Str(b, "working") ?? Str(b, "base") : null,
            Awaiting = Str(run, "awaiting") ?? "",
            Turns = run.TryGetProperty("turns", out var t) && t.ValueKind == JsonValueKind.Number && t.TryGetInt32(out var n) ? n : null,
            Interactive = run.TryGetProperty("interactive", out var i) && i.ValueKind is JsonValueKind.True or JsonValueKind.False ? i.GetBoolean() : null,
            Error = Str(run, "error"),
        };
    }

    private static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
