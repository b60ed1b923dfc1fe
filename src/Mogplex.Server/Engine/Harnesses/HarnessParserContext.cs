using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// What a parser knows of its run: the sandbox's paths (rewritten in every event, see
/// <see cref="SandboxPaths"/>), the configured model (named in <c>stream_started</c> when the
/// harness does not say it) and the model API's host (named in model errors).
/// </summary>
public sealed record HarnessParserContext(SandboxPaths Paths, string? Model, string ModelHost)
{
    /// <summary>No paths to rewrite, no model, an unnamed host (tests of the protocol alone).</summary>
    public static readonly HarnessParserContext None = new(SandboxPaths.None, null, "the model API");

    /// <summary>The run error for a failed model call: its HTTP status when known, always the host.</summary>
    public string ModelError(string harness, int? status, string message) =>
        $"{harness}: model API error: {(status is null ? "" : $"HTTP {status} ")}from {ModelHost}: {JsonLines.OneLine(message)}";
}

/// <summary>
/// Server paths never reach events: in every string of a harness event the run's checkout becomes
/// the repo root (a path below it is repo-relative, the checkout itself <c>.</c>), the sandbox
/// home <c>~</c>, and the sandbox folder that holds both <c>..</c>. Only whole path segments are
/// rewritten (<c>…/repo-old</c> is left alone when the checkout is <c>…/repo</c>).
/// </summary>
public sealed class SandboxPaths
{
    private const string Delimiters = @"\s""'`:;,()\[\]{}<>|&=";

    private readonly Regex? _pattern;
    private readonly string? _checkout;
    private readonly string? _home;

    public SandboxPaths(string? checkout, string? home, string? sandbox)
    {
        _checkout = Normalize(checkout);
        _home = Normalize(home);
        var roots = new[] { _checkout, _home, Normalize(sandbox) }.OfType<string>().Distinct(StringComparer.Ordinal).OrderByDescending(r => r.Length).ToList();
        if (roots.Count > 0)
        {
            var alternatives = string.Join('|', roots.Select(Regex.Escape));
            _pattern = new Regex($"(?<root>{alternatives})(?:(?<slash>/)|(?=[{Delimiters}]|$))", RegexOptions.CultureInvariant);
        }
    }

    public static SandboxPaths None { get; } = new(null, null, null);

    public static SandboxPaths For(HarnessContext context) => new(context.CheckoutDirectory, context.HomeDirectory, context.SandboxDirectory);

    public HarnessEvent Rewrite(HarnessEvent e) =>
        _pattern is null ? e : e with { Message = e.Message is null ? null : Rewrite(e.Message), Payload = Rewrite(e.Payload) };

    public string Rewrite(string text) =>
        _pattern is null || text.Length == 0 ? text : _pattern.Replace(text, m => Replacement(m, text));

    public JsonNode? Rewrite(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (name, child) in obj)
                {
                    copy[name] = Rewrite(child);
                }

                return copy;
            case JsonArray array:
                return new JsonArray([.. array.Select(Rewrite)]);
            default:
                return node.GetValueKind() == System.Text.Json.JsonValueKind.String && node.AsValue().TryGetValue<string>(out var s)
                    ? JsonValue.Create(Rewrite(s))
                    : node.DeepClone();
        }
    }

    private string Replacement(Match m, string text)
    {
        var root = m.Groups["root"].Value;
        var slash = m.Groups["slash"].Success;
        var end = m.Index + m.Length;
        var pathFollows = slash && end < text.Length && !IsDelimiter(text[end]);
        if (root == _checkout)
        {
            return pathFollows ? "" : slash ? "./" : ".";
        }

        var name = root == _home ? "~" : "..";
        return slash ? name + "/" : name;
    }

    private static bool IsDelimiter(char c) => char.IsWhiteSpace(c) || @"""'`:;,()[]{}<>|&=".Contains(c, StringComparison.Ordinal);

    private static string? Normalize(string? path) =>
        string.IsNullOrEmpty(path) ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)) is { Length: > 1 } p ? p : null;
}
