using System.Globalization;
using System.Text.Json;

namespace Mogplex.Cli.Commands.Common;

/// <summary>Tolerant reads of API objects: a missing or differently typed field reads as null, never a crash.</summary>
public static class Fields
{
    public static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            }
            : null;

    public static string? Str(JsonElement element, string name, string nested) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? Str(value, nested) : null;

    public static bool Bool(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    public static bool Bool(JsonElement element, string name, string nested) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && Bool(value, nested);

    public static JsonElement Child(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    /// <summary>The items of an array field (none when it is missing or not an array).</summary>
    public static IEnumerable<JsonElement> Items(JsonElement array) =>
        array.ValueKind == JsonValueKind.Array ? array.EnumerateArray() : [];

    /// <summary>A count (an integer field), or null when absent, null or not an integer.</summary>
    public static int? Count(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    public static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
