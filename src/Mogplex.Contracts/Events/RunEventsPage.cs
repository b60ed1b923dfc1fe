using Mogplex.Contracts.Runs;

namespace Mogplex.Contracts.Events;

/// <summary><c>GET /runs/{id}/events</c>: the run and a page of its events, oldest first.</summary>
public sealed record RunEventsPage(RunDetail Run, IReadOnlyList<RunEvent> Events);

/// <summary>The data of the final SSE <c>end</c> event.</summary>
public sealed record StreamEnd(string RunId, string Status);
