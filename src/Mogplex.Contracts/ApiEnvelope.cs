namespace Mogplex.Contracts;

/// <summary>The success envelope every v1 response uses: <c>{"ok": true, "data": ...}</c>.</summary>
public sealed record ApiEnvelope<T>(bool Ok, T Data);

/// <summary>The error envelope: <c>{"ok": false, "error": {"code", "message"}}</c>.</summary>
public sealed record ApiErrorEnvelope(bool Ok, ApiError Error);

/// <summary>An API error: a stable code (clients match on it) and a human message.</summary>
public sealed record ApiError(string Code, string Message);
