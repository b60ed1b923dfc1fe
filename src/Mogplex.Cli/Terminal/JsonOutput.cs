using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Mogplex.Cli.Terminal;

/// <summary>Writes JSON as one compact line (an object for get/run/cancel, a line per item for lists).</summary>
public static class JsonOutput
{
    private static readonly JsonWriterOptions s_options = new()
    {
        Indented = false,
        // Output for terminals, pipes and jq, not HTML: keep non-ASCII and <>&' readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void WriteLine(TextWriter output, JsonElement value) => output.WriteLine(Serialize(value));

    public static void WriteLine(TextWriter output, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            write(writer);
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    public static string Serialize(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            value.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
