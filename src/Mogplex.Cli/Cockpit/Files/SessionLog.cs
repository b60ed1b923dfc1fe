using System.Text.Json;
using System.Text.RegularExpressions;

namespace Mogplex.Cli.Cockpit.Files;

/// <summary>
/// The session log (cockpit.md, Files): <c>$MOGPLEX_HOME/logs/&lt;UTC time&gt;-&lt;pid&gt;.jsonl</c>,
/// one JSON object per line: the start (transport, version), each command sent and how the
/// server took it, the notices shown, the transport's health, the end. What a person typed is
/// not written (its length is): a prompt can hold anything. Tokens are redacted: Mogplex's own
/// (<c>mog_…</c>), bearer values, and every token this session was given (the sign-in line).
/// Folder 0700, file 0600 created exclusively; the newest <see cref="Kept"/> sessions are kept.
/// A log that cannot be written never stops the cockpit.
/// </summary>
public sealed partial class SessionLog : IDisposable
{
    public const int Kept = 50;

    private readonly Lock _gate = new();
    private readonly FileStream _file;
    private readonly TimeProvider _time;
    private readonly List<string> _secrets = [];

    private SessionLog(FileStream file, TimeProvider time, string path) => (_file, _time, Path) = (file, time, path);

    public string Path { get; }

    /// <summary>A new log in <c>logs/</c> of <paramref name="home"/>, or null when it cannot be made.</summary>
    public static SessionLog? Open(string home, TimeProvider time)
    {
        var folder = System.IO.Path.Combine(home, "logs");
        try
        {
            if (new DirectoryInfo(folder).LinkTarget is not null)
            {
                // A link where the folder should be: not followed.
                return null;
            }

            // The folder is the cockpit's own: 0700 even when something made it before.
            OwnerOnly.CreateOwnFolder(folder);
            Prune(folder);
            var path = System.IO.Path.Combine(folder, $"{time.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}-{Environment.ProcessId}.jsonl");
            return new SessionLog(new FileStream(path, OwnerOnly.NewFile(FileShare.Read)), time, path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A token to redact wherever it appears from now on.</summary>
    public void Secret(string token)
    {
        if (token.Length >= 8)
        {
            lock (_gate)
            {
                _secrets.Add(token);
            }
        }
    }

    public void Write(string kind, params (string Name, string? Value)[] fields)
    {
        lock (_gate)
        {
            try
            {
                using (var writer = new Utf8JsonWriter(_file))
                {
                    writer.WriteStartObject();
                    writer.WriteString("at", _time.GetUtcNow());
                    writer.WriteString("kind", kind);
                    foreach (var (name, value) in fields)
                    {
                        if (value is not null)
                        {
                            writer.WriteString(name, Redact(value));
                        }
                    }

                    writer.WriteEndObject();
                }

                _file.Write("\n"u8);
                _file.Flush();
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                // A full disk or a closed log: the cockpit goes on without it.
            }
        }
    }

    /// <summary>The text with every token in it replaced by <c>[redacted]</c>.</summary>
    public string Redact(string text)
    {
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, "[redacted]", StringComparison.Ordinal);
        }

        return Tokens().Replace(text, m => m.Groups[1].Value + "[redacted]");
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file.Dispose();
        }
    }

    private static void Prune(string folder)
    {
        foreach (var old in Directory.GetFiles(folder, "*.jsonl").Order(StringComparer.Ordinal).SkipLast(Kept - 1))
        {
            File.Delete(old);
        }
    }

    [GeneratedRegex(@"(mog_|[Bb]earer\s+)[A-Za-z0-9._~+/=-]{4,}")]
    private static partial Regex Tokens();
}
