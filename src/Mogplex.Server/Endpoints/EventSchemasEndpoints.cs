using System.Text.Json;
using Mogplex.Contracts;
using Mogplex.Contracts.Events;
using Mogplex.Server.Api;

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
            .WithName("GetEventSchemaIndex")
            .Produces<JsonElement>(StatusCodes.Status200OK, "application/json");
        app.MapGet(ApiRoutes.Base + Route + "/{type}", GetSchema)
            .WithName("GetEventSchema")
            .Produces<JsonElement>(StatusCodes.Status200OK, EventSchemas.MediaType)
            .Produces<ApiErrorEnvelope>(StatusCodes.Status404NotFound);
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
