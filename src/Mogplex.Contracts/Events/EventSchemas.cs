using System.Collections.Frozen;

namespace Mogplex.Contracts.Events;

/// <summary>
/// The JSON Schemas (draft 2020-12) of the events, one per type of <see cref="RunEventTypes"/>, and
/// their index: files under <c>Events/Schemas/v1/</c> embedded in this assembly, served as they are
/// by <c>GET /api/v1/mogplex/schemas/events/v1[/{type}]</c>. v1 only changes additively; anything
/// else is a v2 beside it (docs/decisions.md).
/// </summary>
public static class EventSchemas
{
    /// <summary>The schema version these files describe.</summary>
    public const string Version = "v1";

    /// <summary>The prefix of every schema's <c>$id</c>: <c>{IdBase}{type}.json</c>.</summary>
    public const string IdBase = "https://mogplex.dev/schemas/events/v1/";

    /// <summary>The media type a schema is served with.</summary>
    public const string MediaType = "application/schema+json";

    private const string ResourcePrefix = "EventSchemas/v1/";

    private static readonly Lazy<FrozenDictionary<string, byte[]>> s_files = new(Load);

    /// <summary>The event types that have a schema (every file but <c>index.json</c>), in ordinal order.</summary>
    public static IReadOnlyList<string> Types => [.. s_files.Value.Keys.Where(k => k != "index").Order(StringComparer.Ordinal)];

    /// <summary>The bytes of <c>index.json</c>: the version and each type with its <c>$id</c>.</summary>
    public static ReadOnlyMemory<byte> Index => s_files.Value["index"];

    /// <summary>The schema of one event type, byte for byte as the file in the repository; false for an unknown type.</summary>
    public static bool TryGet(string type, out ReadOnlyMemory<byte> schema)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (type != "index" && s_files.Value.TryGetValue(type, out var bytes))
        {
            schema = bytes;
            return true;
        }

        schema = default;
        return false;
    }

    /// <summary>The <c>$id</c> of a type's schema.</summary>
    public static string IdOf(string type) => IdBase + type + ".json";

    private static FrozenDictionary<string, byte[]> Load()
    {
        var assembly = typeof(EventSchemas).Assembly;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[ResourcePrefix.Length..^".json".Length]] = copy.ToArray();
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
