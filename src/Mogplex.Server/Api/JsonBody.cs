using System.Text.Json;

namespace Mogplex.Server.Api;

/// <summary>
/// Reads a JSON object body with a hard size cap. The raw document (not model binding) is parsed
/// so that each wrong field gets its documented message instead of a generic binder error.
/// </summary>
public static class JsonBody
{
    /// <summary>The parsed object, or an error result (413 oversized, 400 <c>Invalid JSON body</c>).</summary>
    public static async Task<(JsonElement Body, IResult? Error)> ReadObjectAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        if (request.ContentLength > maxBytes)
        {
            return (default, ApiResults.PayloadTooLarge(maxBytes));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return (default, ApiResults.PayloadTooLarge(maxBytes));
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            using var doc = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), new JsonDocumentOptions { MaxDepth = 64 });
            return doc.RootElement.ValueKind == JsonValueKind.Object
                ? (doc.RootElement.Clone(), null)
                : (default, ApiResults.BadRequest("Invalid JSON body"));
        }
        catch (JsonException)
        {
            return (default, ApiResults.BadRequest("Invalid JSON body"));
        }
    }

    /// <summary>Field lookup distinguishing absent from JSON null.</summary>
    public static bool TryGet(JsonElement body, string name, out JsonElement value) => body.TryGetProperty(name, out value);
}
