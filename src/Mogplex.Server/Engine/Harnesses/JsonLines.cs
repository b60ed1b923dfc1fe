using System.Text.Json;
using System.Text.Json.Nodes;
using Mogplex.Contracts.Events;
using Mogplex.Server.Engine.Processes;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>Shared helpers for harnesses that print one JSON object per line.</summary>
internal static class JsonLines
{
    public const int TailLength = 2_000;

    /// <summary>The line as a JSON object, or null (then it is logged as it is).</summary>
    public static JsonObject? TryParse(string line)
    {
        if (line.Length == 0 || line[0] != '{')
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(line) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A line that is not part of the protocol: kept as a <c>log</c> event, raw object in the payload.</summary>
    public static HarnessEvent Log(HarnessProcess.OutputLine line, JsonObject? raw = null) =>
        new(RunEventTypes.Log, raw is null ? line.Text : $"Unrecognized {Str(raw, "type") ?? "harness"} output", Payload: raw is null
            ? new JsonObject { ["stream"] = line.IsError ? "stderr" : "stdout" }
            : new JsonObject { ["raw"] = raw.DeepClone() });

    public static string? Str(JsonNode? node, string name) =>
        node is JsonObject o && o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static long? Long(JsonNode? node, string name) =>
        node is JsonObject o && o[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;

    public static decimal? Decimal(JsonNode? node, string name) =>
        node is JsonObject o && o[name] is JsonValue v && v.TryGetValue<decimal>(out var n) ? n : null;

    public static string Tail(string? text) =>
        text is null ? "" : text.Length <= TailLength ? text : text[^TailLength..];

    public static string OneLine(string? text, int max = 200)
    {
        var line = (text ?? "").ReplaceLineEndings(" ").Trim();
        return line.Length <= max ? line : line[..(max - 3)] + "...";
    }
}
