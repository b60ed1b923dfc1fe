using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>
/// Tolerant reads of API objects, shared by the views: a missing field, or one of another type,
/// reads as null (or false, or nothing), never a crash. A string field that holds a number or a
/// boolean reads as its JSON text.
/// </summary>
internal static class JsonFields
{
    public static string? Text(JsonElement element, string name) =>
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

    /// <summary>True only for JSON <c>true</c>.</summary>
    public static bool Flag(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    /// <summary>A count (an integer field), or null when absent, null or not a 32-bit integer.</summary>
    public static int? Count(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    /// <summary>The field's value, or an undefined element when it is missing (every read of that is null).</summary>
    public static JsonElement Child(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    /// <summary>The items of an array field (none when it is missing or not an array).</summary>
    public static IEnumerable<JsonElement> Items(JsonElement element, string name)
    {
        var array = Child(element, name);
        return array.ValueKind == JsonValueKind.Array ? array.EnumerateArray() : [];
    }

    /// <summary>
    /// The items of an array field of an object: none when the field is missing or not an array.
    /// Unlike <see cref="Items"/>, an answer that is not an object at all throws
    /// <see cref="InvalidOperationException"/> (as <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/> does).
    /// </summary>
    public static IReadOnlyList<JsonElement> ItemsOfObject(JsonElement element, string name) =>
        element.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array ? array.EnumerateArray().ToList() : [];
}
