namespace Mogplex.Client;

/// <summary>
/// Where the API lives: an <c>http(s)://</c> base URL, or a Unix socket (<c>unix:/path</c>) that
/// carries plain HTTP. <see cref="Display"/> is what errors name.
/// </summary>
public sealed record ServerAddress
{
    public const string ApiPath = Mogplex.Contracts.ApiRoutes.Base;

    private ServerAddress(Uri baseUri, string? socketPath, string display)
    {
        BaseUri = baseUri;
        SocketPath = socketPath;
        Display = display;
    }

    /// <summary>The base URL requests are built on (for a socket, <c>http://localhost</c>).</summary>
    public Uri BaseUri { get; }

    /// <summary>The Unix socket to connect to, or null for TCP.</summary>
    public string? SocketPath { get; }

    public string Display { get; }

    public Uri ApiUri(string relative) => new(BaseUri.AbsoluteUri.TrimEnd('/') + ApiPath + relative);

    public static ServerAddress Http(Uri baseUri)
    {
        var text = baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return new ServerAddress(new Uri(text + "/"), null, text);
    }

    public static ServerAddress UnixSocket(string path) => new(new Uri("http://localhost/"), path, "unix:" + path);
}
