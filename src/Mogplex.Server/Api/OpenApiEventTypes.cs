using System.Reflection;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Mogplex.Contracts.Events;

namespace Mogplex.Server.Api;

/// <summary>
/// The OpenAPI document names every event type a run's stream can carry on <c>RunEvent.type</c>
/// (a description and examples, not an enum: a client generated from it keeps accepting types added later).
/// </summary>
public sealed class OpenApiEventTypes : IOpenApiSchemaTransformer
{
    /// <summary>Every type of <see cref="RunEventTypes"/>, in declaration order.</summary>
    public static readonly IReadOnlyList<string> All =
        [.. typeof(RunEventTypes).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!)];

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Type == typeof(RunEvent) && schema.Properties is { } properties && properties.TryGetValue("type", out var type) && type is OpenApiSchema typeSchema)
        {
            typeSchema.Description = "The event type: " + string.Join(", ", All) +
                " (turn_started, turn_completed, user_message, approval_requested and approval_decided are mogplexd's interactive runs; new types may be added).";
        }

        return Task.CompletedTask;
    }
}
