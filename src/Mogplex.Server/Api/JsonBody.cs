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
        // This reader enforces the exact limit on the decoded bytes; Kestrel's own limit is lifted
        // for this request because (a) it counts chunked framing (chunk sizes, CRLFs), so a chunked
        // body a few bytes under maxBytes was refused, and (b) a body it refuses on Content-Length
        // is not drained, the connection is dropped and the client often sees a broken pipe instead
        // of the 413 below. Kestrel still drains an unread remainder under its own time bound, and
        // its limit stays for routes that never read a body.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }

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
            // Duplicate keys are refused: with two "repoId"s, which one counts depends on the parser,
            // and a proxy or client library that validated the other one would be fooled.
            using var doc = JsonDocument.Parse(
                buffer.GetBuffer().AsMemory(0, (int)buffer.Length),
                new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (default, ApiResults.BadRequest("Invalid JSON body"));
            }

            DecodeAll(doc.RootElement);
            return (doc.RootElement.Clone(), null);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: text that parses but does not decode (see DecodeAll).
            return (default, ApiResults.BadRequest("Invalid JSON body"));
        }
    }

    /// <summary>
    /// The parser checks structure, not text: invalid UTF-8 bytes and lone surrogate escapes
    /// (<c>"\ud800"</c>) only fail when a string is read, with an InvalidOperationException that
    /// would surface as a 500. Decoding every key and string once here makes them the 400 they are.
    /// </summary>
    private static void DecodeAll(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                _ = element.GetString();
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    DecodeAll(property.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    DecodeAll(item);
                }

                break;
        }
    }

    /// <summary>Field lookup distinguishing absent from JSON null.</summary>
    public static bool TryGet(JsonElement body, string name, out JsonElement value) => body.TryGetProperty(name, out value);
}
