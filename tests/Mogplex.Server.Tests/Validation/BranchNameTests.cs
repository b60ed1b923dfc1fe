using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Mogplex.Server.Validation;

namespace Mogplex.Server.Tests.Validation;

public class BranchNameTests
{
    [Theory]
    [InlineData("main")]
    [InlineData("feature/x-1")]
    [InlineData("release/1.2.3")]
    [InlineData("a_b")]
    [InlineData("a")]
    [InlineData("Feature/CamelCase_42")]
    [InlineData("mogplex/run/2025-03-07/fix-the-login-bug")]
    [InlineData("a-")]
    [InlineData("a.b")]
    [InlineData("a./b")]
    [InlineData("a.lockx")]
    [InlineData("lock")]
    [InlineData("a/lock")]
    [InlineData("head")]
    [InlineData("HEAD/x")]
    [InlineData("x/HEAD")]
    [InlineData("_")]
    [InlineData("0")]
    public void IsValid_AcceptableName_ReturnsTrue(string name) => Assert.True(BranchName.IsValid(name));

    [Theory]
    [InlineData("")] // empty
    [InlineData("@")] // "@" alone is shorthand for HEAD
    [InlineData("HEAD")]
    [InlineData("/main")] // leading '/'
    [InlineData("-main")] // leading '-'
    [InlineData("-")]
    [InlineData("main/")] // trailing '/'
    [InlineData("main.")] // trailing '.'
    [InlineData("a/b.")]
    [InlineData("main.lock")] // ".lock" suffix
    [InlineData("a..b")] // ".."
    [InlineData("..")]
    [InlineData("a/../b")]
    [InlineData("a//b")] // "//"
    [InlineData("a@{b")] // "@{"
    [InlineData("@{-1}")]
    [InlineData("a b")] // whitespace
    [InlineData(" main")]
    [InlineData("main ")]
    [InlineData("a\tb")]
    [InlineData("a\nb")]
    [InlineData("a\u00a0b")] // non-breaking space
    [InlineData("a\u0000b")] // control characters
    [InlineData("a\u0001b")]
    [InlineData("a\u001fb")]
    [InlineData("a\u007fb")]
    [InlineData("a*b")] // * : ? [ \ ^ ~
    [InlineData("a:b")]
    [InlineData("a?b")]
    [InlineData("a[b")]
    [InlineData("a\\b")]
    [InlineData("a^b")]
    [InlineData("a~b")]
    [InlineData("a@b")] // outside [A-Za-z0-9_./-]
    [InlineData("a{b")]
    [InlineData("a}b")]
    [InlineData("a]b")]
    [InlineData("a#b")]
    [InlineData("a!b")]
    [InlineData("a+b")]
    [InlineData("a,b")]
    [InlineData("a=b")]
    [InlineData("a'b")]
    [InlineData("a\"b")]
    [InlineData("a$b")]
    [InlineData("a;b")]
    [InlineData("a|b")]
    [InlineData("a&b")]
    [InlineData("a<b")]
    [InlineData("a>b")]
    [InlineData("a`b")]
    [InlineData("a%b")]
    [InlineData("caf\u00e9")] // non-ASCII letter
    [InlineData("\u0430dmin")] // Cyrillic look-alike of "admin"
    [InlineData("a\ud83d\ude00")] // emoji
    [InlineData(".hidden")] // git: component starting with '.'
    [InlineData("a/.b")]
    [InlineData(".")]
    [InlineData("a.lock/b")] // git: component ending with ".lock"
    [InlineData("a/b.lock")]
    [InlineData(".lock")]
    [InlineData("/")] // git: empty components
    [InlineData("//")]
    [InlineData("a/")]
    public void IsValid_ForbiddenName_ReturnsFalse(string name) => Assert.False(BranchName.IsValid(name));

    [Fact]
    public void IsValid_Null_ReturnsFalse() => Assert.False(BranchName.IsValid(null));

    [Fact]
    public void IsValid_MaxLengthName_ReturnsTrue() => Assert.True(BranchName.IsValid(new string('a', 255)));

    [Fact]
    public void IsValid_LongerThanMaxLength_ReturnsFalse() => Assert.False(BranchName.IsValid(new string('a', 256)));

    [Fact]
    public void IsValid_HugeInput_ReturnsFalse() => Assert.False(BranchName.IsValid(new string('a', 100_000)));

    /// <summary>
    /// Cross-checks against the real git binary: the C# rules must never accept a name git rejects.
    /// (Being stricter than git is intended, so the reverse is not asserted.)
    /// </summary>
    [Fact]
    public async Task IsValid_CorpusComparedWithGit_NeverAcceptsWhatGitRejects()
    {
        var corpus = BuildCorpus();
        Assert.True(corpus.Count >= 150, $"corpus has only {corpus.Count} names");

        var workDir = Directory.CreateTempSubdirectory("mogplex-branchname-");
        try
        {
            var acceptedByBoth = 0;
            var rejectedByGit = 0;
            var failures = new List<string>();
            foreach (var name in corpus)
            {
                var gitAccepts = await GitAcceptsBranchAsync(name, workDir.FullName);
                var weAccept = BranchName.IsValid(name);
                if (!gitAccepts)
                {
                    rejectedByGit++;
                    if (weAccept)
                    {
                        failures.Add(name);
                    }
                }
                else if (weAccept)
                {
                    acceptedByBoth++;
                }
            }

            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{corpus.Count} names: {acceptedByBoth} accepted by both, {rejectedByGit} rejected by git.");
            Assert.True(failures.Count == 0, "IsValid accepts names git rejects: " + string.Join(", ", failures.Select(Quote)));

            // Guards against a vacuous pass (e.g. git failing to run and rejecting everything).
            Assert.True(acceptedByBoth >= 30, $"only {acceptedByBoth} names were accepted by both");
            Assert.True(rejectedByGit >= 30, $"only {rejectedByGit} names were rejected by git");
        }
        finally
        {
            workDir.Delete(recursive: true);
        }
    }

    private static List<string> BuildCorpus()
    {
        var names = new List<string>
        {
            "main", "feature/x-1", "release/1.2.3", "a_b", "a", "a.b", "a./b", "a-", "-", "-a", "--", "a--b",
            "", "@", "@@", "a@", "@a", "a@b", "@{", "a@{b", "@{-1}", "@{u}", "a@{1}", "{", "}", "a{b}",
            "HEAD", "head", "HEAD/x", "x/HEAD", "refs/heads/main", "heads/x",
            ".", "..", "...", ".a", "a.", "a..b", "a...b", "a/.b", "a/..", "../a", "a/./b", "a/b/.", "./a",
            "/", "//", "/a", "a/", "a//b", "a///b", "/a/", "a/b/",
            "lock", ".lock", "a.lock", "a.lock/b", "a/b.lock", "a.lockx", "a.LOCK", "a.lock.", "a.lock/",
            "a b", " a", "a ", "a\tb", "a\nb", "a\rb", "a\u007fb", "a\u0001b", "a\u001fb", "a\u00a0b",
            "a*b", "*", "a/*", "a:b", ":", "a?b", "?", "a[b", "[", "a]b", "a\\b", "\\", "a^b", "^", "a~b", "~",
            "a~1", "a^{}", "a:b/c", "a#b", "a!b", "a+b", "a,b", "a=b", "a'b", "a\"b", "a$b", "a;b", "a|b",
            "a&b", "a<b", "a>b", "a`b", "a%b", "a(b)",
            "caf\u00e9", "\u0430dmin", "\u65e5\u672c", "a\ud83d\ude00", "a\u200bb",
            "mogplex/run/2025-03-07/fix-the-login-bug", "mogplex/run/2025-03-07/fix-the-login-bug-a1b2c3",
            new string('a', 255), new string('a', 256), new string('a', 200) + "/" + new string('b', 54),
        };

        // Deterministic pseudo-random names: the seed is fixed so a failure is reproducible.
        var random = new Random(20250307);
        const string symbols = "./-@{~^:?*[\\ _";
        const string letters = "abcXYZ019";
        for (var n = 0; n < 250; n++)
        {
            var length = random.Next(1, 12);
            var builder = new StringBuilder(length);
            for (var i = 0; i < length; i++)
            {
                // Two thirds letters so that a reasonable share of names is valid and exercises the accept path.
                var pool = random.Next(3) == 0 ? symbols : letters;
                builder.Append(pool[random.Next(pool.Length)]);
            }

            names.Add(builder.ToString());
        }

        // Structured names: plausible components, sometimes decorated with a problematic prefix or suffix.
        string[] components = ["main", "x", "a.b", "lock", "v1.2", "HEAD", "dev_1", "q-r"];
        string[] decorations = ["", "", "", ".", "-", ".lock", "..", "@{", "/", "~", "@"];
        for (var n = 0; n < 150; n++)
        {
            var count = random.Next(1, 4);
            var parts = new string[count];
            for (var i = 0; i < count; i++)
            {
                var part = components[random.Next(components.Length)];
                var decoration = decorations[random.Next(decorations.Length)];
                parts[i] = random.Next(2) == 0 ? decoration + part : part + decoration;
            }

            names.Add(string.Join('/', parts));
        }

        return names;
    }

    private static async Task<bool> GitAcceptsBranchAsync(string name, string workingDirectory)
    {
        var startInfo = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // ArgumentList passes the name as one argv entry with no shell, so nothing in it is interpreted.
        startInfo.ArgumentList.Add("check-ref-format");
        startInfo.ArgumentList.Add("--branch");
        startInfo.ArgumentList.Add(name);

        // Keep git from picking up an enclosing repository or an inherited one (e.g. when run from a git hook):
        // outside a repository, "--branch" checks the literal name without expanding "@{-N}".
        startInfo.Environment.Remove("GIT_DIR");
        startInfo.Environment.Remove("GIT_WORK_TREE");
        startInfo.Environment["GIT_CEILING_DIRECTORIES"] = Path.GetDirectoryName(workingDirectory);

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new InvalidOperationException("git did not start");
        }
        catch (Win32Exception)
        {
            Assert.Skip("git is not installed");
            throw;
        }

        using (process)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
                await Task.WhenAll(stdout, stderr);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"git check-ref-format timed out for {Quote(name)}");
            }

            // "--branch" prints the name and exits 0 when valid, and dies (exit 128) with this message when not.
            // Anything else is git failing to run, which must not be mistaken for a verdict.
            var error = await stderr;
            var rejected = process.ExitCode == 128 && error.Contains("is not a valid branch name", StringComparison.Ordinal);
            Assert.True(process.ExitCode == 0 || rejected, $"git exited with {process.ExitCode} for {Quote(name)}: {error}");
            return process.ExitCode == 0;
        }
    }

    private static string Quote(string name)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in name)
        {
            builder.Append(c is < ' ' or > '~' ? $"\\u{(int)c:x4}" : c.ToString());
        }

        return builder.Append('"').ToString();
    }
}
