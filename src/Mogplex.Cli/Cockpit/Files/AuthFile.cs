using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mogplex.Cli.Cockpit.Files;

/// <summary>
/// <c>$MOGPLEX_HOME/auth.json</c> as cli.md reads it (<c>{"mogplex": {"token": …, "url": …}}</c>):
/// <c>/login</c> stores a token there, <c>/logout</c> and <c>--logout</c> remove it. Other
/// sections of the file are kept. The file is written 0600 beside itself and renamed over (a
/// reader never sees half a file; no token is left in a temporary file), its folder 0700.
/// </summary>
public static class AuthFile
{
    public static string PathIn(string home) => Path.Combine(home, "auth.json");

    /// <summary>Stores <paramref name="token"/> for <paramref name="url"/>; the error when it could not.</summary>
    public static string? Store(string home, string token, string url)
    {
        var root = ReadObject(PathIn(home)) ?? [];
        root["mogplex"] = new JsonObject { ["token"] = token, ["url"] = url };
        return Write(home, root);
    }

    /// <summary>Removes the stored token (the file when nothing else is in it); true when there was one.</summary>
    public static bool Remove(string home)
    {
        var path = PathIn(home);
        if (!File.Exists(path))
        {
            return false;
        }

        var root = ReadObject(path);
        if (root is null || root.Count == 0 || (root.Count == 1 && root.ContainsKey("mogplex")))
        {
            // Only our section, or nothing readable: a sign-out must not leave a token behind.
            File.Delete(path);
            return true;
        }

        var had = root.Remove("mogplex");
        return Write(home, root) is null && had;
    }

    private static JsonObject? ReadObject(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            return bytes.Length <= 1024 * 1024 && JsonNode.Parse(bytes) is JsonObject o ? o : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    private static string? Write(string home, JsonObject root) => OwnerOnly.ReplaceJson(PathIn(home), writer => root.WriteTo(writer));
}
