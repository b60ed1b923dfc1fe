using System.Text.Json;

namespace Mogplex.Cli.Cockpit.Files;

/// <summary>
/// How the cockpit makes its files (cockpit.md, Files: all 0600, folders 0700): folders made
/// 0700, files created exclusively 0600, and a whole JSON file replaced by writing it beside
/// itself and renaming it over (a reader sees the old file or the new one; a link at the path is
/// replaced, never written through).
/// </summary>
public static class OwnerOnly
{
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Makes <paramref name="folder"/> (0700 when new).</summary>
    public static void CreateFolder(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, Folder);
        }
    }

    /// <summary>Makes <paramref name="folder"/> and sets it 0700 even when something made it before.</summary>
    public static void CreateOwnFolder(string folder)
    {
        CreateFolder(folder);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, Folder);
        }
    }

    /// <summary>Options for a new file, created exclusively, 0600.</summary>
    public static FileStreamOptions NewFile(FileShare share = FileShare.None)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = share };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    /// <summary>Replaces <paramref name="path"/> with the JSON <paramref name="write"/> writes, and a newline; the error when it could not.</summary>
    public static string? ReplaceJson(string path, Action<Utf8JsonWriter> write)
    {
        var folder = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(folder, $".{Path.GetFileName(path)}-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        try
        {
            CreateFolder(folder);
            using (var stream = new FileStream(temp, NewFile()))
            {
                using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
                {
                    write(writer);
                }

                stream.Write("\n"u8);
            }

            File.Move(temp, path, overwrite: true);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            return $"cannot write {path}: {ex.Message}";
        }
    }
}
