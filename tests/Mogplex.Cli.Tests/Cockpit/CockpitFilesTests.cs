using System.Text.Json;
using Mogplex.Cli.Cockpit.Files;

namespace Mogplex.Cli.Tests.Cockpit;

/// <summary>
/// The cockpit's files (cockpit.md, Files): the permissions files' layers, every way a file can be
/// wrong (each an error that names the file, never skipped), writes that are whole, 0600 and never
/// through a planted link, and <c>auth.json</c> for <c>/login</c> and <c>/logout</c>.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CockpitFilesTests : IDisposable
{
    private const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _home = Directory.CreateTempSubdirectory("mogplex-cockpit-files-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private string Global => PermissionsFiles.GlobalPath(_home);

    private string Project => PermissionsFiles.ProjectPath(_home, "repo-abc");

    private static void Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, Owner);
    }

    [Fact]
    public void NoFiles_NothingIsSent_TheServerDecides()
    {
        var resolved = PermissionsFiles.Load(_home, "repo-abc");

        Assert.Null(resolved.Error);
        Assert.Null(resolved.Mode);
        Assert.Null(resolved.ToRequest());
        Assert.Contains("mode: the server's default (no permissions file sets one)", resolved.Describe());
    }

    [Fact]
    public void Layers_TheProjectsModeWins_EveryRuleIsSentWithItsSource()
    {
        Write(Global, """{"version": 1, "mode": "auto", "rules": {"allow": ["read:*"], "deny": ["bash:rm -rf *"]}}""");
        Write(Project, """{"version": 1, "mode": "approval", "rules": {"allow": ["bash:git *"], "ask": ["net:https://*"]}}""");

        var resolved = PermissionsFiles.Load(_home, "repo-abc");
        var request = resolved.ToRequest()!;

        Assert.Null(resolved.Error);
        Assert.Equal("approval", resolved.Mode);
        Assert.Equal(["read:*@user", "bash:git *@project"], request.Allow);
        Assert.Equal(["net:https://*@project"], request.Ask);
        Assert.Equal(["bash:rm -rf *@user"], request.Deny);
        Assert.Contains($"mode approval (project: {Project})", resolved.Describe());
        Assert.Contains($"deny bash:rm -rf * (global: {Global})", resolved.Describe());
    }

    [Fact]
    public void OutsideARepository_OnlyTheGlobalFileCounts()
    {
        Write(Global, """{"version": 1, "mode": "auto"}""");
        Write(Project, """{"version": 1, "mode": "approval"}""");

        Assert.Equal("auto", PermissionsFiles.Load(_home, projectSlug: null).Mode);
    }

    public static TheoryData<string, string> BadFiles() => new()
    {
        { "{\"version\": 1, \"mode\": \"auto\"", "is not valid JSON" },
        { "[]", "must hold one JSON object" },
        { "{\"mode\": \"auto\"}", "\"version\": 1 is missing" },
        { "{\"version\": \"1\"}", "version must be 1" },
        { "{\"version\": 1, \"mode\": \"yolo\"}", "mode must be \"approval\" or \"auto\"" },
        { "{\"version\": 1, \"rules\": []}", "rules must be an object" },
        { "{\"version\": 1, \"rules\": {\"allow\": \"bash:*\"}}", "rules.allow must be a list" },
        { "{\"version\": 1, \"rules\": {\"permit\": []}}", "unknown rule list 'permit'" },
        { "{\"version\": 1, \"rules\": {\"deny\": [42]}}", "a rule must be a non-empty string" },
        { "{\"version\": 1, \"rules\": {\"deny\": [\"\"]}}", "a rule must be a non-empty string" },
        { "{\"version\": 1, \"rules\": {\"deny\": [\"rm *\"]}}", "must start with bash:, write:, read:, mcp: or net:" },
        { "{\"version\": 1, \"rules\": {\"deny\": [\"bash:\"]}}", "has nothing after 'bash:'" },
        { "{\"version\": 1, \"rules\": {\"deny\": [\"bash:rm\\u001b[2J *\"]}}", "contains a control character" },
        { "{\"version\": 1, \"rules\": {\"deny\": [\"bash:" + new string('x', 490) + "\"]}}", "a rule exceeds 492 characters" },
        { "{\"version\": 1, \"extra\": true}", "unknown field 'extra'" },
        { "{\"version\": 1, \"\\u001b]2;pwned\\u0007\": true}", "unknown field '\\x1b]2;pwned\\x07'" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void AFileThatIsNotExactlyRight_IsAnErrorNamingIt_NeverSkipped(string content, string why)
    {
        Write(Global, """{"version": 1, "rules": {"deny": ["bash:rm -rf *"]}}""");
        Write(Project, content);

        var resolved = PermissionsFiles.Load(_home, "repo-abc");

        Assert.NotNull(resolved.Error);
        Assert.Contains(Project, resolved.Error, StringComparison.Ordinal);
        Assert.Contains(why, resolved.Error, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', resolved.Error);
    }

    [Fact]
    public void AnOversizedFile_IsAnError()
    {
        Write(Global, "{\"version\": 1, \"rules\": {\"allow\": [" + string.Join(',', Enumerable.Repeat("\"read:" + new string('a', 400) + "\"", 200)) + "]}}");

        Assert.Contains("is larger than 64 KiB", PermissionsFiles.Load(_home, null).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void MoreThan200RulesTogether_IsAnError()
    {
        Write(Global, "{\"version\": 1, \"rules\": {\"allow\": [" + string.Join(',', Enumerable.Range(0, 150).Select(i => $"\"read:a{i}\"")) + "]}}");
        Write(Project, "{\"version\": 1, \"rules\": {\"deny\": [" + string.Join(',', Enumerable.Range(0, 51).Select(i => $"\"bash:b{i}\"")) + "]}}");

        Assert.Contains("hold 201 rules together", PermissionsFiles.Load(_home, "repo-abc").Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFileOthersCanWrite_IsNotTrusted(bool theFolder)
    {
        Write(Project, """{"version": 1, "mode": "auto"}""");
        if (theFolder)
        {
            File.SetUnixFileMode(Path.GetDirectoryName(Project)!, (UnixFileMode)0b111_111_111);
        }
        else
        {
            File.SetUnixFileMode(Project, (UnixFileMode)0b110_110_110);
        }

        Assert.Contains("can be written by other users", PermissionsFiles.Load(_home, "repo-abc").Error, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteMode_KeepsTheRules_MakesTheFile0600AndItsFolder0700()
    {
        var home = Path.Combine(_home, "fresh");
        var path = PermissionsFiles.GlobalPath(home);

        Assert.Null(PermissionsFiles.WriteMode(path, "approval"));
        Directory.CreateDirectory(home);
        Assert.Equal(Owner, File.GetUnixFileMode(path));
        Assert.Equal(Owner | UnixFileMode.UserExecute, File.GetUnixFileMode(home));
        File.WriteAllText(path, """{"version": 1, "mode": "approval", "rules": {"ask": ["write:src/**"], "deny": ["bash:rm *"]}}""");
        Assert.Null(PermissionsFiles.WriteMode(path, "auto"));

        var resolved = PermissionsFiles.Load(home, null);
        Assert.Equal("auto", resolved.Mode);
        Assert.Equal(["write:src/**@user"], resolved.ToRequest()!.Ask);
        Assert.Equal(["bash:rm *@user"], resolved.ToRequest()!.Deny);
        Assert.Equal(["permissions.json"], Directory.GetFiles(home).Select(Path.GetFileName));
    }

    [Fact]
    public void WriteMode_OverAFileThatDoesNotRead_ChangesNothing()
    {
        const string broken = """{"version": 1, "rules": {"deny": ["bash:rm *"]""";
        Write(Global, broken);

        var error = PermissionsFiles.WriteMode(Global, "auto");

        Assert.Contains("nothing was written", error, StringComparison.Ordinal);
        Assert.Equal(broken, File.ReadAllText(Global));
    }

    [Fact]
    public void WriteMode_ReplacesAPlantedLink_NeverWritesWhereItPoints()
    {
        var elsewhere = Path.Combine(_home, "elsewhere.json");
        File.WriteAllText(elsewhere, """{"version": 1, "mode": "auto"}""");
        File.SetUnixFileMode(elsewhere, Owner);
        File.CreateSymbolicLink(Global, elsewhere);

        Assert.Null(PermissionsFiles.WriteMode(Global, "approval"));

        Assert.Equal("""{"version": 1, "mode": "auto"}""", File.ReadAllText(elsewhere));
        Assert.Null(new FileInfo(Global).LinkTarget);
        Assert.Equal("approval", PermissionsFiles.Load(_home, null).Mode);
    }

    [Fact]
    public async Task ConcurrentWrites_LeaveOneWholeFile()
    {
        Write(Global, """{"version": 1, "rules": {"deny": ["bash:rm *"]}}""");

        var errors = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => PermissionsFiles.WriteMode(Global, i % 2 == 0 ? "auto" : "approval"), Ct)));

        Assert.All(errors, Assert.Null);
        var resolved = PermissionsFiles.Load(_home, null);
        Assert.Null(resolved.Error);
        Assert.True(resolved.Mode is "auto" or "approval", resolved.Mode);
        Assert.Equal(["bash:rm *@user"], resolved.ToRequest()!.Deny);
        Assert.Equal(["permissions.json"], Directory.GetFiles(_home).Select(Path.GetFileName));
    }

    [Fact]
    public void AuthFile_StoreKeepsOtherSections_RemoveTakesOnlyTheToken()
    {
        File.WriteAllText(AuthFile.PathIn(_home), """{"other": {"keep": 1}}""");

        Assert.Null(AuthFile.Store(_home, "tok-1", "unix:/s.sock"));
        using (var stored = JsonDocument.Parse(File.ReadAllText(AuthFile.PathIn(_home))))
        {
            Assert.Equal("tok-1", stored.RootElement.GetProperty("mogplex").GetProperty("token").GetString());
            Assert.Equal("unix:/s.sock", stored.RootElement.GetProperty("mogplex").GetProperty("url").GetString());
            Assert.Equal(1, stored.RootElement.GetProperty("other").GetProperty("keep").GetInt32());
        }

        Assert.Equal(Owner, File.GetUnixFileMode(AuthFile.PathIn(_home)));
        Assert.True(AuthFile.Remove(_home));
        Assert.Equal("""{"other":{"keep":1}}""", File.ReadAllText(AuthFile.PathIn(_home)).Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal));
        Assert.False(AuthFile.Remove(Path.Combine(_home, "nobody")));
    }

    [Theory]
    [InlineData("""{"mogplex": {"token": "tok"}}""")]
    [InlineData("""{"mogplex": {"token": "tok""")]
    public void AuthFile_RemoveOfOnlyOurs_OrOfAFileThatDoesNotRead_LeavesNoToken(string content)
    {
        File.WriteAllText(AuthFile.PathIn(_home), content);

        Assert.True(AuthFile.Remove(_home));

        Assert.False(File.Exists(AuthFile.PathIn(_home)));
    }

    [Fact]
    public void AuthFile_StoreOverAPlantedLink_NeverWritesTheTokenWhereItPoints()
    {
        var elsewhere = Path.Combine(_home, "world-readable.json");
        File.WriteAllText(elsewhere, "{}");
        File.CreateSymbolicLink(AuthFile.PathIn(_home), elsewhere);

        Assert.Null(AuthFile.Store(_home, "tok-secret", "unix:/s.sock"));

        Assert.Equal("{}", File.ReadAllText(elsewhere));
        Assert.Null(new FileInfo(AuthFile.PathIn(_home)).LinkTarget);
        Assert.Contains("tok-secret", File.ReadAllText(AuthFile.PathIn(_home)), StringComparison.Ordinal);
    }

    [Fact]
    public void SessionLog_RedactsTokens_IsOwnerOnly_KeepsTheNewestSessions()
    {
        var logs = Directory.CreateDirectory(Path.Combine(_home, "logs")).FullName;
        for (var i = 0; i < SessionLog.Kept + 5; i++)
        {
            File.WriteAllText(Path.Combine(logs, $"20260101T0000{i:00}Z-1.jsonl"), "{}\n");
        }

        using (var log = SessionLog.Open(_home, TimeProvider.System)!)
        {
            log.Secret("plain-secret-value");
            log.Write("notice", ("text", "refused mog_AbCdEf0123456789AbCdEf0123456789 and Bearer xyz.abc-123 and plain-secret-value"));
        }

        var files = Directory.GetFiles(logs).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(SessionLog.Kept, files.Count);
        Assert.DoesNotContain(Path.Combine(logs, "20260101T000000Z-1.jsonl"), files);
        var written = File.ReadAllText(files[^1]);
        Assert.Contains("refused mog_[redacted] and Bearer [redacted] and [redacted]", written, StringComparison.Ordinal);
        Assert.Equal(Owner, File.GetUnixFileMode(files[^1]));
        Assert.Equal(Owner | UnixFileMode.UserExecute, File.GetUnixFileMode(logs) & (UnixFileMode)0b111_111_111);
    }

    [Fact]
    public void SessionLog_ALinkWhereTheFolderShouldBe_IsNotFollowed()
    {
        var elsewhere = Directory.CreateDirectory(Path.Combine(_home, "elsewhere")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(_home, "logs"), elsewhere);

        Assert.Null(SessionLog.Open(_home, TimeProvider.System));

        Assert.Empty(Directory.GetFileSystemEntries(elsewhere));
    }
}
