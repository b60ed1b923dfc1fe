namespace Mogplex.Contracts.Runs;

/// <summary><c>GET /runs/{id}</c>: <c>{"run": ...}</c>.</summary>
public sealed record RunEnvelope(RunDetail Run);

/// <summary>[beyond] <c>GET /runs</c>: newest first, with an opaque cursor.</summary>
public sealed record RunList(IReadOnlyList<RunDetail> Runs, string? NextCursor);

/// <summary><c>POST /runs/{id}/cancel</c>.</summary>
public sealed record CancelRunResult(RunDetail Run, string Status, bool AlreadyTerminal);
