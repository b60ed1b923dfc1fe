using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mogplex.Server.Events;

/// <summary>
/// Removes credentials from event messages and payloads and bounds their size before an event is stored.
/// </summary>
/// <remarks>
/// <para>
/// Contract (API spec): values under keys whose normalized name contains <c>authorization</c>, <c>apikey</c>,
/// <c>token</c>, <c>secret</c>, <c>password</c>, <c>cookie</c>, <c>credential</c>, <c>session</c>, <c>jwt</c>,
/// or equals <c>env</c>/<c>environment</c> are replaced by <c>[redacted]</c>; inside strings, bearer tokens,
/// <c>mog_…</c>, GitHub tokens (<c>ghp_</c>, <c>gho_</c>, <c>ghs_</c>, <c>ghu_</c>, <c>ghr_</c>, <c>github_pat_</c>),
/// <c>sk-…</c> keys and every secret value injected into the harness environment are replaced by
/// <c>[redacted]</c>. Strings over 2,000 characters are cut, arrays and objects keep 25 entries, containers
/// deeper than 3 levels become <c>[truncated]</c>, and a payload whose JSON exceeds 20,000 characters is
/// replaced by a preview.
/// </para>
/// <para>Decisions taken where the contract is silent:</para>
/// <list type="bullet">
/// <item>Key normalization lowercases and drops every non-alphanumeric character, so <c>api_key</c>,
/// <c>Api-Key</c> and <c>X-API-KEY</c> all contain <c>apikey</c>, and <c>access_token</c> contains <c>token</c>.
/// Only a key that normalizes to exactly <c>env</c> or <c>environment</c> is redacted for that rule;
/// <c>environmentName</c> is not.</item>
/// <item>The whole value of a sensitive key, even an object, array, number or null, becomes the string
/// <c>[redacted]</c>: a nested structure under <c>credentials</c> is presumed secret in its entirety.</item>
/// <item>Property names are string-redacted too (a token used as a key). Two names that become equal after
/// redaction or truncation are kept apart by suffixing <c>#2</c>, <c>#3</c>, … to the later ones, because a
/// JSON object cannot hold duplicate names and silently dropping data would hide that something was there.</item>
/// <item>Redaction happens before truncation, so a secret straddling the cut can never leak half of itself.
/// Redaction may lengthen a string (a 6-character secret becomes 10 characters of <c>[redacted]</c>); the
/// length limit applies to the redacted text.</item>
/// <item>A string longer than 2,000 characters keeps its first 2,000 characters followed by
/// <c>\n...[truncated N chars]</c>, where N is the number of characters removed. If the cut would split a UTF-16
/// surrogate pair, one character fewer is kept (and N is one larger) so the result stays valid text.</item>
/// <item>Overlapping or adjacent matches (for example a bearer token that is also an injected secret) are
/// merged and replaced once. A merged region that starts with a bearer match becomes <c>Bearer [redacted]</c>,
/// any other region becomes <c>[redacted]</c>.</item>
/// <item>The root payload container is depth 1; a container at depth 4 is replaced by the string
/// <c>[truncated]</c>. A scalar is never depth-truncated.</item>
/// <item>Arrays keep their first 25 elements and objects their first 25 properties, in order; nothing is
/// appended to say entries were dropped, to keep the stored shape simple and predictable.</item>
/// <item>Numbers, booleans and nulls pass through unchanged.</item>
/// <item>The 20,000-character limit is checked on the compact JSON of the already sanitized payload, written
/// with relaxed escaping so non-ASCII text counts as one character per UTF-16 unit rather than as <c>\uXXXX</c>.
/// The preview is exactly its first 20,000 characters (the encoder writes characters outside the Basic
/// Multilingual Plane as <c>\uXXXX</c> escapes, so the cut cannot split a surrogate pair); it is not redacted
/// again because it is built from sanitized output.</item>
/// </list>
/// <para>
/// Instances are immutable and thread-safe. Inputs are never mutated: <see cref="SanitizePayload"/> always
/// builds a new node tree. Strings with nothing that could match are returned as the same instance without
/// running any regular expression, because the sanitizer sits on the event ingestion hot path.
/// </para>
/// </remarks>
public sealed partial class EventSanitizer
{
    /// <summary>Replacement for a redacted value or token.</summary>
    public const string RedactedText = "[redacted]";

    /// <summary>Replacement for a container nested deeper than <see cref="MaxDepth"/>.</summary>
    public const string TruncatedText = "[truncated]";

    /// <summary>Longest string kept intact, in UTF-16 characters.</summary>
    public const int MaxStringLength = 2_000;

    /// <summary>Number of elements or properties kept per array or object.</summary>
    public const int MaxEntries = 25;

    /// <summary>Deepest container level kept; the root payload container is level 1.</summary>
    public const int MaxDepth = 3;

    /// <summary>Longest compact JSON payload kept, in characters.</summary>
    public const int MaxPayloadLength = 20_000;

    /// <summary>
    /// Shortest injected secret value that is redacted. Environment variables also carry values such as
    /// <c>1</c>, <c>true</c> or <c>dev</c>; redacting those everywhere would destroy ordinary output while
    /// protecting nothing, so short values are ignored.
    /// </summary>
    public const int MinSecretLength = 6;

    private const string BearerRedactedText = "Bearer " + RedactedText;

    private static readonly string[] s_sensitiveKeyParts =
        ["authorization", "apikey", "token", "secret", "password", "cookie", "credential", "session", "jwt"];

    // Superset prefilter for TokenPattern: every regex match starts with one of these (compared
    // case-insensitively, which only makes the prefilter looser), so a string containing none of them is
    // returned untouched without running the regex.
    private static readonly SearchValues<string> s_tokenPrefixes = SearchValues.Create(
        ["bearer", "mog_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_", "sk-"],
        StringComparison.OrdinalIgnoreCase);

    // Relaxed escaping so the size limit and the preview count non-ASCII text as characters rather than \uXXXX
    // escapes (characters outside the BMP are still escaped). The output is stored as data, never embedded in
    // HTML, so HTML-sensitive characters need no escaping here.
    private static readonly JsonSerializerOptions s_jsonOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    private readonly string[] _secrets;
    private readonly SearchValues<string>? _secretSearch;

    /// <summary>Creates a sanitizer that also redacts the given literal secret values.</summary>
    /// <param name="secretValues">
    /// Literal values (for example the values of environment variables the server injected into an agent
    /// process) to redact wherever they appear inside strings. Null, empty, whitespace-only values and values
    /// shorter than <see cref="MinSecretLength"/> characters are ignored.
    /// </param>
    public EventSanitizer(IEnumerable<string>? secretValues = null)
    {
        // Longest first: when one secret contains another, the longer one is matched first. Overlapping
        // matches are merged anyway, so the order only matters for readability and determinism.
        _secrets = secretValues is null
            ? []
            : secretValues
                .Where(static s => !string.IsNullOrWhiteSpace(s) && s.Length >= MinSecretLength)
                .Distinct(StringComparer.Ordinal)
                .OrderByDescending(static s => s.Length)
                .ThenBy(static s => s, StringComparer.Ordinal)
                .ToArray();
        _secretSearch = _secrets.Length == 0 ? null : SearchValues.Create(_secrets, StringComparison.Ordinal);
    }

    /// <summary>A sanitizer with no injected secret values, applying only the built-in rules.</summary>
    public static EventSanitizer Default { get; } = new();

    /// <summary>Returns a sanitizer that redacts this sanitizer's secret values plus <paramref name="more"/>.</summary>
    public EventSanitizer WithSecrets(IEnumerable<string> more)
    {
        ArgumentNullException.ThrowIfNull(more);
        return new EventSanitizer(_secrets.Concat(more));
    }

    /// <summary>Sanitizes an event message with the string rules; <see langword="null"/> stays null.</summary>
    public string? SanitizeMessage(string? message) => message is null ? null : SanitizeString(message);

    /// <summary>Redacts tokens and secret values inside <paramref name="value"/>, then caps its length.</summary>
    /// <returns>The same instance when nothing had to change.</returns>
    public string SanitizeString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Truncate(Redact(value));
    }

    /// <summary>
    /// Returns a new, sanitized copy of <paramref name="payload"/>; the input is never modified.
    /// </summary>
    public JsonNode? SanitizePayload(JsonNode? payload)
    {
        if (payload is null)
        {
            return null;
        }

        var sanitized = SanitizeNode(payload, depth: 1);
        var json = sanitized?.ToJsonString(s_jsonOptions) ?? "null";
        if (json.Length <= MaxPayloadLength)
        {
            return sanitized;
        }

        return new JsonObject
        {
            ["truncated"] = true,
            ["payloadPreview"] = json[..MaxPayloadLength],
        };
    }

    private JsonNode? SanitizeNode(JsonNode? node, int depth)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                return depth > MaxDepth ? JsonValue.Create(TruncatedText) : SanitizeObject(obj, depth);
            case JsonArray array:
                return depth > MaxDepth ? JsonValue.Create(TruncatedText) : SanitizeArray(array, depth);
            default:
                return SanitizeValue(node.AsValue(), depth);
        }
    }

    private JsonObject SanitizeObject(JsonObject obj, int depth)
    {
        var result = new JsonObject();
        var kept = 0;
        foreach (var (name, child) in obj)
        {
            if (kept++ == MaxEntries)
            {
                break;
            }

            // The key check uses the original name: redacting it first could hide "token" inside "[redacted]".
            var value = IsSensitiveKey(name) ? JsonValue.Create(RedactedText) : SanitizeNode(child, depth + 1);
            result[UniqueName(result, SanitizeString(name))] = value;
        }

        return result;
    }

    private JsonArray SanitizeArray(JsonArray array, int depth)
    {
        var result = new JsonArray();
        var count = Math.Min(array.Count, MaxEntries);
        for (var i = 0; i < count; i++)
        {
            result.Add(SanitizeNode(array[i], depth + 1));
        }

        return result;
    }

    private JsonNode? SanitizeValue(JsonValue value, int depth)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                return JsonValue.Create(SanitizeString(ReadString(value)));
            case JsonValueKind.Object or JsonValueKind.Array:
                // A JsonValue wrapping a JsonElement object/array: re-read it as nodes so the same rules apply.
                return SanitizeNode(JsonNode.Parse(value.ToJsonString()), depth);
            default:
                // Numbers, booleans and null carry no text to leak; clone because a node can have one parent.
                return value.DeepClone();
        }
    }

    private static string ReadString(JsonValue value)
    {
        if (value.TryGetValue<string>(out var text))
        {
            return text;
        }

        // Values such as a wrapped Guid, DateTime or char report kind String but cannot be read as string;
        // their JSON text is the canonical string form.
        using var document = JsonDocument.Parse(value.ToJsonString());
        return document.RootElement.GetString() ?? string.Empty;
    }

    private static string UniqueName(JsonObject target, string name)
    {
        if (!target.ContainsKey(name))
        {
            return name;
        }

        for (var suffix = 2; ; suffix++)
        {
            var candidate = name + "#" + suffix.ToString(CultureInfo.InvariantCulture);
            if (!target.ContainsKey(candidate))
            {
                return candidate;
            }
        }
    }

    private static bool IsSensitiveKey(string name)
    {
        const int StackLimit = 256;
        Span<char> buffer = name.Length <= StackLimit ? stackalloc char[StackLimit] : new char[name.Length];
        var length = 0;
        foreach (var c in name)
        {
            if (char.IsLetterOrDigit(c))
            {
                buffer[length++] = char.ToLowerInvariant(c);
            }
        }

        ReadOnlySpan<char> normalized = buffer[..length];
        if (normalized.SequenceEqual("env") || normalized.SequenceEqual("environment"))
        {
            return true;
        }

        foreach (var part in s_sensitiveKeyParts)
        {
            if (normalized.Contains(part, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private string Redact(string value)
    {
        var span = value.AsSpan();
        var mayHaveToken = span.ContainsAny(s_tokenPrefixes);
        var mayHaveSecret = _secretSearch is not null && span.ContainsAny(_secretSearch);
        if (!mayHaveToken && !mayHaveSecret)
        {
            return value;
        }

        // All matches are located on the original text and merged before anything is replaced, so one
        // replacement can never break or create another match (e.g. a secret that is also part of a token).
        List<Region>? regions = null;
        if (mayHaveToken)
        {
            foreach (var match in TokenPattern.EnumerateMatches(span))
            {
                // Only the bearer alternative starts with 'b'; the others start with m, g or s.
                var isBearer = (span[match.Index] | 0x20) == 'b';
                (regions ??= []).Add(new Region(match.Index, match.Index + match.Length, isBearer));
            }
        }

        if (mayHaveSecret)
        {
            foreach (var secret in _secrets)
            {
                var start = span.IndexOf(secret, StringComparison.Ordinal);
                while (start >= 0)
                {
                    (regions ??= []).Add(new Region(start, start + secret.Length, IsBearer: false));

                    // Advance by one so self-overlapping occurrences ("aaaaaa" in "aaaaaaa") are all covered.
                    var next = span[(start + 1)..].IndexOf(secret, StringComparison.Ordinal);
                    start = next < 0 ? -1 : start + 1 + next;
                }
            }
        }

        if (regions is null)
        {
            return value;
        }

        // Bearer wins a start tie so "Bearer <secret>" keeps its "Bearer " prefix in the output.
        regions.Sort(static (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : b.IsBearer.CompareTo(a.IsBearer));

        var builder = new StringBuilder(value.Length);
        var copied = 0;
        var i = 0;
        while (i < regions.Count)
        {
            var first = regions[i];
            var end = first.End;
            for (i++; i < regions.Count && regions[i].Start <= end; i++)
            {
                end = Math.Max(end, regions[i].End);
            }

            builder.Append(span[copied..first.Start]);
            builder.Append(first.IsBearer ? BearerRedactedText : RedactedText);
            copied = end;
        }

        builder.Append(span[copied..]);
        return builder.ToString();
    }

    private static string Truncate(string value)
    {
        if (value.Length <= MaxStringLength)
        {
            return value;
        }

        // Keep one character fewer when the cut would leave a lone high surrogate, which is not valid text.
        var kept = char.IsHighSurrogate(value[MaxStringLength - 1]) && char.IsLowSurrogate(value[MaxStringLength])
            ? MaxStringLength - 1
            : MaxStringLength;
        var removed = value.Length - kept;
        return string.Concat(
            value.AsSpan(0, kept),
            "\n...[truncated ",
            removed.ToString(CultureInfo.InvariantCulture),
            " chars]");
    }

    // One alternation so each string is scanned once. The look-behind rejects matches glued to a preceding
    // letter or digit ("task-…", "desk-…", "smog_…", "xbearer …"); an underscore or punctuation before a token
    // does not protect it. "bearer" is case-insensitive because HTTP auth schemes are; the vendor prefixes are
    // case-sensitive like the real tokens.
    [GeneratedRegex(
        @"(?<![A-Za-z0-9])(?:(?i:bearer)\s+[A-Za-z0-9._~+/=-]+|mog_[A-Za-z0-9]{8,}|gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,}|sk-[A-Za-z0-9_-]{16,})",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex TokenPattern { get; }

    private readonly record struct Region(int Start, int End, bool IsBearer);
}
