using System.Globalization;
using System.Text.Json.Nodes;
using Mogplex.Contracts.Events;
using Mogplex.Server.Events;
using Mogplex.Storage;

namespace Mogplex.Server.Engine;

/// <summary>
/// <c>Runs:MaxEvents</c> for one run: the first <see cref="Max"/> events made from the harness's
/// output are stored; the next one is replaced by a <c>log</c> event that says the limit was
/// reached, and everything after it is only counted (the harness keeps running, its output is
/// still parsed, so usage and the outcome stay right). When output was dropped, the run gets one
/// more <c>log</c> event when the harness ends, with the counts in its payload. The run's own
/// lifecycle events (sandbox, status, delivery, the final event) are not output and always stored.
/// </summary>
public sealed class OutputEventLimit(int max)
{
    /// <summary>The payload's <c>stage</c> of both events.</summary>
    public const string Stage = "event_limit";

    private long _stored;
    private bool _lineDropped;

    public int Max => max;

    public long DroppedEvents { get; private set; }

    /// <summary>Output lines of which at least one event was dropped.</summary>
    public long DroppedLines { get; private set; }

    /// <summary>Call before the events of each output line.</summary>
    public void StartLine() => _lineDropped = false;

    /// <summary>Whether the next event may be stored; counts it either way.</summary>
    public bool TryAdmit()
    {
        if (_stored < max)
        {
            _stored++;
            return true;
        }

        DroppedEvents++;
        if (!_lineDropped)
        {
            _lineDropped = true;
            DroppedLines++;
        }

        return false;
    }

    /// <summary>Stored instead of the first event over the limit.</summary>
    public NewRunEvent Notice(RunEvents events) => events.Create(
        RunEventTypes.Log,
        string.Create(CultureInfo.InvariantCulture, $"Event limit reached (Runs:MaxEvents = {max}): further output of this run is not stored; the run goes on"),
        payload: new JsonObject { ["stage"] = Stage, ["limit"] = max });

    /// <summary>Stored when the harness ended, if anything was dropped.</summary>
    public NewRunEvent Summary(RunEvents events) => events.Create(
        RunEventTypes.Log,
        string.Create(CultureInfo.InvariantCulture, $"Not stored over Runs:MaxEvents = {max}: {DroppedEvents} events from {DroppedLines} output lines"),
        payload: new JsonObject { ["stage"] = Stage, ["limit"] = max, ["droppedEvents"] = DroppedEvents, ["droppedLines"] = DroppedLines });
}
