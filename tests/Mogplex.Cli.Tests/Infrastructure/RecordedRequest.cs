namespace Mogplex.Cli.Tests.Infrastructure;

/// <summary>A request the CLI sent: method, full URI, headers (request and content) and body.</summary>
public sealed record RecordedRequest(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, string? Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public override string ToString() => $"{Method} {Uri.PathAndQuery}";
}
