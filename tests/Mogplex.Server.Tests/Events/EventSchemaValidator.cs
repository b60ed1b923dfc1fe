using System.Text.Json;
using Json.Schema;
using Mogplex.Contracts.Events;

namespace Mogplex.Server.Tests.Events;

/// <summary>
/// The published event schemas (the embedded files of <see cref="EventSchemas"/>), built once with
/// JsonSchema.Net, and checks of events against them with <c>format</c> asserted (a validator a
/// client might use does assert it).
/// </summary>
internal static class EventSchemaValidator
{
    public static readonly EvaluationOptions Options = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };

    private static readonly Lazy<IReadOnlyDictionary<string, JsonSchema>> s_schemas = new(() =>
        EventSchemas.Types.ToDictionary(t => t, t => Build(Text(t)), StringComparer.Ordinal));

    /// <summary>The schema file of a type, as text.</summary>
    public static string Text(string type) =>
        EventSchemas.TryGet(type, out var bytes) ? System.Text.Encoding.UTF8.GetString(bytes.Span) : throw new InvalidOperationException($"no schema for {type}");

    /// <summary>Builds a schema in a registry of its own (the same <c>$id</c> may be built more than once).</summary>
    public static JsonSchema Build(string text) => JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() });

    /// <summary>The errors of an event against its type's schema; empty when it validates.</summary>
    public static IReadOnlyList<string> Errors(JsonElement evt)
    {
        var type = evt.GetProperty("type").GetString()!;
        if (!s_schemas.Value.TryGetValue(type, out var schema))
        {
            return [$"no schema for event type {type}"];
        }

        return Errors(schema.Evaluate(evt, Options));
    }

    public static IReadOnlyList<string> Errors(EvaluationResults results) =>
        results.IsValid ? [] : [.. Flatten(results).Where(r => r.Errors is { Count: > 0 }).SelectMany(r => r.Errors!.Select(e => $"{r.InstanceLocation} ({r.EvaluationPath}): {e.Key}: {e.Value}"))];

    /// <summary>Fails with the event and every error when it does not validate.</summary>
    public static void AssertValid(JsonElement evt)
    {
        var errors = Errors(evt);
        Assert.True(errors.Count == 0, $"{evt.GetRawText()}\n  " + string.Join("\n  ", errors));
    }

    private static IEnumerable<EvaluationResults> Flatten(EvaluationResults results) =>
        new[] { results }.Concat((results.Details ?? []).SelectMany(Flatten));
}
