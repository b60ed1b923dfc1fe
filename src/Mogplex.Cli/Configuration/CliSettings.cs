using System.Text.Json;
using Mogplex.Client;

namespace Mogplex.Cli.Configuration;

/// <summary>
/// Resolves the configuration of cli.md § Configuration from the environment: the token
/// (<c>MOGPLEX_API_KEY</c>, else <c>$MOGPLEX_HOME/auth.json</c>), the home folder
/// (<c>MOGPLEX_HOME</c>, else the deprecated <c>CODEX_HOME</c>, else <c>~/.mogplex</c>) and the
/// server address (<c>MOGPLEX_URL</c> with the plain-http rule, or <c>unix:/path</c>).
/// Nothing here touches the network; a token is never put in a message.
/// </summary>
public sealed class CliSettings(Func<string, string?> environment, TextWriter warnings)
{
    public const string DefaultUrl = "https://www.mogplex.com";

    public const string NotAuthenticated = "not authenticated: set MOGPLEX_API_KEY or sign in with `mogplex`";

    private bool _warnedCodexHome;

    /// <summary>The home folder (<c>auth.json</c> lives there).</summary>
    public string Home()
    {
        if (Value("MOGPLEX_HOME") is { } home)
        {
            return home;
        }

        if (Value("CODEX_HOME") is { } codexHome)
        {
            if (!_warnedCodexHome)
            {
                _warnedCodexHome = true;
                warnings.WriteLine("warning: CODEX_HOME is deprecated for mogplex; set MOGPLEX_HOME instead");
            }

            return codexHome;
        }

        var userHome = Value("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(userHome, ".mogplex");
    }

    /// <summary>The <c>url</c> the auth.json token was issued for, when the token came from there and it names one.</summary>
    public string? TokenIssuedFor { get; private set; }

    /// <summary>The token to send, or an exit-64 error when there is none.</summary>
    public string Token()
    {
        var token = Value("MOGPLEX_API_KEY");
        var source = "MOGPLEX_API_KEY";
        if (token is null)
        {
            var path = Path.Combine(Home(), "auth.json");
            source = path;
            (token, TokenIssuedFor) = ReadAuthFile(path);
        }

        if (token is null)
        {
            throw new ExitCodeException(ExitCodes.Unauthorized, NotAuthenticated);
        }

        // A header cannot carry control characters or non-ASCII; say so without echoing the value.
        if (token.Any(c => c <= ' ' || c > '~'))
        {
            throw new ExitCodeException(ExitCodes.Unauthorized, $"the token from {source} contains characters a token cannot have");
        }

        return token;
    }

    /// <summary>The server address, or an exit-2 error for a refused or malformed <c>MOGPLEX_URL</c>.</summary>
    public ServerAddress Address()
    {
        var raw = Value("MOGPLEX_URL") ?? DefaultUrl;
        if (raw.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = raw["unix:".Length..];
            if (path.StartsWith("//", StringComparison.Ordinal))
            {
                path = path[2..];
            }

            if (path.Length == 0)
            {
                throw new UsageException("MOGPLEX_URL=unix: needs a socket path, e.g. unix:/var/lib/mogplexd/mogplexd.sock");
            }

            return ServerAddress.UnixSocket(Path.GetFullPath(path));
        }

        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            throw new UsageException($"MOGPLEX_URL is not an https:// URL or unix:/path: {raw}");
        }

        if (uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new UsageException("MOGPLEX_URL must be a base URL without credentials, query or fragment");
        }

        if (uri.Scheme == "http" && !PlainHttpAllowed(uri))
        {
            throw new UsageException(
                $"refusing plain http to {uri.GetLeftPart(UriPartial.Authority)}: use https, or for a local development server " +
                "use host localhost, 127.0.0.1 or [::1] with MOGPLEX_DEV=1 (never with NODE_ENV=production)");
        }

        return ServerAddress.Http(uri);
    }

    private bool PlainHttpAllowed(Uri uri) =>
        uri.Host is "localhost" or "127.0.0.1" or "[::1]"
        && environment("MOGPLEX_DEV") == "1"
        && environment("NODE_ENV") != "production";

    private string? Value(string name) => environment(name) is { Length: > 0 } value ? value : null;

    private static (string? Token, string? Url) ReadAuthFile(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (null, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExitCodeException(ExitCodes.Unauthorized, $"cannot read {path}: {e.Message}");
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("mogplex", out var section)
                || section.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            var token = section.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } value ? value : null;
            var url = section.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String && u.GetString() is { Length: > 0 } issued ? issued : null;
            return (token, url);
        }
        catch (JsonException)
        {
            throw new ExitCodeException(ExitCodes.Unauthorized, $"{path} is not valid JSON; sign in again with `mogplex` or set MOGPLEX_API_KEY");
        }
    }
}
