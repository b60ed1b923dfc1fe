using Microsoft.OpenApi;

namespace Mogplex.Server.OpenApi;

/// <summary>A query parameter as the OpenAPI document describes it (the handlers read the query themselves).</summary>
public sealed record ApiQueryDoc(string Name, string Description, JsonSchemaType Type = JsonSchemaType.String)
{
    public IReadOnlyList<string>? Enum { get; init; }
    public object? Default { get; init; }
    public int? MaxLength { get; init; }
    public string? Format { get; init; }
}

/// <summary>A request header the operation reads (<c>Idempotency-Key</c>, <c>Last-Event-ID</c>).</summary>
public sealed record ApiHeaderDoc(string Name, string Description, bool Required, int? MaxLength = null);

/// <summary>The JSON request body: the contract type clients send (the handler parses the raw JSON itself, for its documented messages).</summary>
public sealed record ApiBodyDoc(Type Type, string Description, bool Required);

/// <summary>An error answer of the operation beyond the ones every authenticated route has, and when it happens.</summary>
public sealed record ApiErrorDoc(int Status, string Description, Type? Schema = null);

/// <summary>Marks the route whose 200 is also a Server-Sent Events stream (<c>text/event-stream</c>).</summary>
public sealed record EventStreamDoc;

/// <summary>A success answer without a body (<c>204</c> on a finished stream's resume).</summary>
public sealed record ApiEmptyResponseDoc(int Status, string Description);

/// <summary>
/// What the OpenAPI document says about a route beyond its signature: read by
/// <see cref="OpenApiOperations"/>. Every v1 route states its operationId and summary here, so the
/// document test can tell a described route from one that was only mapped.
/// </summary>
public static class ApiDocs
{
    /// <summary>The tag, the operationId (named like the CLI: <c>listRepos</c>, <c>startRun</c>), a one-line summary, and optional prose.</summary>
    public static RouteHandlerBuilder Doc(this RouteHandlerBuilder builder, string tag, string operationId, string summary, string? description = null)
    {
        builder.WithTags(tag).WithName(operationId).WithSummary(summary);
        return description is null ? builder : builder.WithDescription(description);
    }

    public static RouteHandlerBuilder Query(this RouteHandlerBuilder builder, ApiQueryDoc query) => builder.WithMetadata(query);

    /// <summary><c>limit</c>: any integer, clamped to 1..<paramref name="max"/>; not a number is a 400.</summary>
    public static RouteHandlerBuilder Limit(this RouteHandlerBuilder builder, int defaultValue, int max) =>
        builder.Query(new ApiQueryDoc("limit", $"How many to return: default {defaultValue}; any integer is clamped to 1..{max}; anything else is 400 `Invalid limit`.", JsonSchemaType.Integer) { Default = defaultValue, Format = "int32" });

    public static RouteHandlerBuilder Header(this RouteHandlerBuilder builder, ApiHeaderDoc header) => builder.WithMetadata(header);

    public static RouteHandlerBuilder JsonBody<T>(this RouteHandlerBuilder builder, string description, bool required = true) =>
        builder.WithMetadata(new ApiBodyDoc(typeof(T), description, required));

    /// <summary>Error answers with the error envelope (or <paramref name="schema"/>); 401, 403, 429, 500 and 503 are on every authenticated route already.</summary>
    public static RouteHandlerBuilder Error(this RouteHandlerBuilder builder, int status, string description, Type? schema = null) =>
        builder.WithMetadata(new ApiErrorDoc(status, description, schema));

    public static RouteHandlerBuilder EmptyResponse(this RouteHandlerBuilder builder, int status, string description) =>
        builder.WithMetadata(new ApiEmptyResponseDoc(status, description));
}
