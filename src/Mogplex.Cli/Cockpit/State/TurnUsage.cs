using System.Text.Json;
using Mogplex.Contracts.Events;

namespace Mogplex.Cli.Cockpit.State;

/// <summary>
/// What one turn of a run used (the cost drawer): turn 0 is what came outside any turn (a
/// one-shot run, or before the first turn started).
/// </summary>
public sealed record TurnUsage(int Turn)
{
    public long InputTokens { get; init; }

    public long CachedInputTokens { get; init; }

    public long OutputTokens { get; init; }

    public decimal CostUsd { get; init; }

    /// <summary>
    /// A <c>usage</c> event (<c>{input, cachedInput, output, costUsd}</c>, this event's delta) added
    /// to the run's totals and to the turn it came in.
    /// </summary>
    internal static CockpitRun Add(CockpitRun run, RunEvent e)
    {
        var (input, cached, output, cost) = (Long(e.Payload, "input"), Long(e.Payload, "cachedInput"), Long(e.Payload, "output"), Money(e.Payload, "costUsd"));
        var turn = Find(run, run.TurnsSeen);
        turn = turn with
        {
            InputTokens = turn.InputTokens + (input ?? 0),
            CachedInputTokens = turn.CachedInputTokens + (cached ?? 0),
            OutputTokens = turn.OutputTokens + (output ?? 0),
            CostUsd = turn.CostUsd + (cost ?? 0),
        };
        return Put(run, turn) with
        {
            InputTokens = run.InputTokens + (input ?? 0),
            CachedInputTokens = run.CachedInputTokens + (cached ?? 0),
            OutputTokens = run.OutputTokens + (output ?? 0),
            CostUsd = run.CostUsd + (cost ?? 0),
        };
    }

    /// <summary>
    /// A <c>turn_completed</c>'s <c>usage</c> is that turn's own delta: where it says a figure, it is
    /// the turn's (the <c>usage</c> events of the turn already counted for the run's totals, so
    /// those stay as they are).
    /// </summary>
    internal static CockpitRun Completed(CockpitRun run, RunEvent e)
    {
        if (e.Payload is not { ValueKind: JsonValueKind.Object } payload || !payload.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return run;
        }

        var turn = Find(run, run.TurnsSeen);
        return Put(run, turn with
        {
            InputTokens = Long(usage, "input") ?? turn.InputTokens,
            CachedInputTokens = Long(usage, "cachedInput") ?? turn.CachedInputTokens,
            OutputTokens = Long(usage, "output") ?? turn.OutputTokens,
            CostUsd = Money(usage, "costUsd") ?? turn.CostUsd,
        });
    }

    private static TurnUsage Find(CockpitRun run, int number) => run.Usage.Find(t => t.Turn == number) ?? new TurnUsage(number);

    private static CockpitRun Put(CockpitRun run, TurnUsage turn)
    {
        var index = run.Usage.FindIndex(t => t.Turn == turn.Turn);
        return run with { Usage = index < 0 ? run.Usage.Add(turn) : run.Usage.SetItem(index, turn) };
    }

    private static long? Long(JsonElement? o, string name) =>
        o is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n >= 0 ? n : null;

    private static decimal? Money(JsonElement? o, string name) =>
        o is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDecimal(out var n) && n >= 0 ? n : null;
}
