using System.Text.Json;
using Mogplex.Contracts;
using Mogplex.Contracts.Events;
using Mogplex.Server.Api;
using Mogplex.Server.OpenApi;

namespace Mogplex.Server.Endpoints;

/// <summary>
/// <c>/schemas/events/v1[/{type}]</c>: the published JSON Schemas of the events (the embedded files
/// of <see cref="EventSchemas"/>, byte for byte). Public like <c>openapi.json</c>: a contract, no data.
/// </summary>
public static class EventSchemasEndpoints
{
    public const string Route = "/schemas/events/" + EventSchemas.Version;

    /// <summary>Maps the routes on the app itself, outside the authenticated group.</summary>
    public static IEndpointRouteBuilder MapEventSchemas(this IEndpointRouteBuilder app)
    {
        app.MapGet(ApiRoutes.Base + Route, GetIndex)
            .Doc("Schemas", "listEventSchemas", "[beyond] The index of the event payload schemas (v1)",
                "No token needed. The version and, per event type, its schema's `$id` and the route that serves it. v1 only ever gains optional fields and event types; anything else would be v2, served beside it.")
            .Produces<JsonElement>(StatusCodes.Status200OK, "application/json");
        app.MapGet(ApiRoutes.Base + Route + "/{type}", GetSchema)
            .Doc("Schemas", "getEventSchema", "[beyond] The JSON Schema (draft 2020-12) of one event type",
                "No token needed. The whole event (`type`, `message`, `toolName`, `payload`...), including the sanitized forms a server stores (cut strings, the truncated-payload preview).")
            .Produces<JsonElement>(StatusCodes.Status200OK, EventSchemas.MediaType)
            .Error(StatusCodes.Status404NotFound, "Not an event type of v1 (the message points at the index).");
        return app;
    }

    private static IResult GetIndex() => Results.Bytes(EventSchemas.Index, "application/json");

    /// <summary>The type's schema; <c>{type}.json</c> is accepted too, so the last segment of a schema's <c>$id</c> works here.</summary>
    private static IResult GetSchema(string type)
    {
        var name = type.EndsWith(".json", StringComparison.Ordinal) ? type[..^".json".Length] : type;
        return EventSchemas.TryGet(name, out var schema)
            ? Results.Bytes(schema, EventSchemas.MediaType)
            : ApiResults.NotFound("Unknown event type: the index at " + ApiRoutes.Base + Route + " lists the types");
    }
}
