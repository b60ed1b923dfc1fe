using System.Threading.Channels;
using Hex1b;
using Hex1b.Automation;
using Hex1b.Input;
using Microsoft.Extensions.Time.Testing;
using Mogplex.Cli.Cockpit.Files;
using Mogplex.Cli.Cockpit.State;
using Mogplex.Cli.Cockpit.Transport;
using Mogplex.Cli.Cockpit.Ui;

namespace Mogplex.Cli.Tests.Cockpit;

/// <summary>
/// The real cockpit app in a headless Hex1b terminal, keys as a person types them, against a
/// transport that records what the cockpit sends (the end-to-end tests do the same against a real
/// mogplexd): the composer (history, several lines, steering, slash completion), the sign-in line
/// (a token is never drawn, a refused one never stored), the permissions files sent with a start,
/// and the title and bell for runs that need you.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CockpitComposerTests : IDisposable
{
    private const int Width = 120;
    private const int Height = 24;

    private readonly string _home = Directory.CreateTempSubdirectory("mogplex-cockpit-home-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task History_UpBringsBackWhatWasSent_DownReturnsToWhatWasBeingTyped()
    {
        await using var cockpit = await Cockpit.StartAsync(_home);
        var auto = cockpit.Automator;

        await SendAsync(auto, "first message");
        await SendAsync(auto, "second message");
        await cockpit.Transport.WaitForAsync(2);
        await auto.TypeAsync("a draft", Ct);

        await auto.UpAsync(Ct);
        await auto.WaitUntilTextAsync("second message");
        await auto.UpAsync(Ct);
        await auto.WaitUntilTextAsync("first message");
        await auto.DownAsync(Ct);
        await auto.DownAsync(Ct);
        await auto.WaitUntilTextAsync("a draft");
        await auto.EnterAsync(Ct);
        await cockpit.Transport.WaitForAsync(3);

        Assert.Equal(["first message", "second message", "a draft"], cockpit.Transport.Messages().Select(m => m.Text));
    }

    [Fact]
    public async Task AltEnter_AddsALine_EnterSendsTheWholeText_CtrlSSteers()
    {
        await using var cockpit = await Cockpit.StartAsync(_home);
        var auto = cockpit.Automator;

        await auto.TypeAsync("line one", Ct);
        await auto.Alt().KeyAsync(Hex1bKey.Enter, Ct);
        await auto.TypeAsync("line two", Ct);
        await auto.WaitUntilTextAsync("line two");
        Assert.Contains("line one", Text(auto), StringComparison.Ordinal);
        await auto.EnterAsync(Ct);
        await auto.TypeAsync("go left instead", Ct);
        await auto.Ctrl().KeyAsync(Hex1bKey.S, Ct);
        await cockpit.Transport.WaitForAsync(2);

        var sent = cockpit.Transport.Messages();
        Assert.Equal(new CockpitCommand.SendMessage(Cockpit.RunId, "line one\nline two", Steer: false), sent[0]);
        Assert.Equal(new CockpitCommand.SendMessage(Cockpit.RunId, "go left instead", Steer: true), sent[1]);
        await auto.WaitUntilTextAsync("steered");
    }

    [Fact]
    public async Task SlashCommands_AreHintedAndCompleted_AMissingArgumentIsExplained_NothingIsSent()
    {
        await using var cockpit = await Cockpit.StartAsync(_home);
        var auto = cockpit.Automator;

        await auto.TypeAsync("/per", Ct);
        await auto.WaitUntilTextAsync("/permissions [approval|auto]");
        await auto.TabAsync(Ct);
        await auto.WaitUntilTextAsync("/permissions ");
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync("mode: the server's default");
        await auto.TypeAsync("/zz", Ct);
        await auto.WaitUntilTextAsync("no command starts with /zz");
        await auto.BackspaceAsync(Ct);
        await auto.BackspaceAsync(Ct);
        await auto.TypeAsync("run", Ct);
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync("/run needs an argument");

        Assert.Empty(cockpit.Transport.Sent);
    }

    [Fact]
    public async Task StartRun_SendsTheModeAndRulesOfBothFiles_EachWithItsSource()
    {
        Directory.CreateDirectory(Path.Combine(_home, "projects", "repo-1"));
        await File.WriteAllTextAsync(PermissionsFiles.GlobalPath(_home), """{"version": 1, "mode": "auto", "rules": {"deny": ["bash:rm -rf *"]}}""", Ct);
        await File.WriteAllTextAsync(PermissionsFiles.ProjectPath(_home, "repo-1"), """{"version": 1, "mode": "approval", "rules": {"allow": ["bash:git *"]}}""", Ct);
        await using var cockpit = await Cockpit.StartAsync(_home, interactiveRun: false);
        var auto = cockpit.Automator;

        await SendAsync(auto, "fix the build");
        await cockpit.Transport.WaitForAsync(1);

        var start = Assert.IsType<CockpitCommand.StartRun>(cockpit.Transport.Sent.Single());
        Assert.Equal("approval", start.PermissionMode);
        Assert.Equal(["bash:git *@project"], start.Permissions!.Allow);
        var logged = await File.ReadAllTextAsync(Directory.GetFiles(Path.Combine(_home, "logs")).Single(), Ct);
        Assert.Contains("\"command\":\"StartRun\",\"textLength\":\"13\"", logged, StringComparison.Ordinal);
        Assert.DoesNotContain("fix the build", logged, StringComparison.Ordinal);
        Assert.Equal(["bash:rm -rf *@user"], start.Permissions.Deny);
        Assert.Null(start.Permissions.Ask);
    }

    [Theory]
    [InlineData("{\"version\": 1, \"mode\": \"auto\", \"rules\": {\"deny\": [\"bash:rm *\"]}", "is not valid JSON")]
    [InlineData("{\"version\": 1, \"rules\": {\"deny\": [\"rm *\"]}}", "must start with bash:")]
    [InlineData("{\"version\": 1, \"rule\": {\"deny\": [\"bash:rm *\"]}}", "unknown field 'rule'")]
    [InlineData("{\"version\": 2}", "version must be 1")]
    public async Task AnInvalidPermissionsFile_KeepsRunsFromStarting_AndSaysWhichAndWhy(string content, string why)
    {
        await File.WriteAllTextAsync(PermissionsFiles.GlobalPath(_home), content, Ct);
        await using var cockpit = await Cockpit.StartAsync(_home, interactiveRun: false);
        var auto = cockpit.Automator;

        await auto.WaitUntilTextAsync("runs cannot start");
        await SendAsync(auto, "fix the build");
        await auto.WaitUntilTextAsync("not started:");

        Assert.Contains(why, Text(auto).Replace("\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Empty(cockpit.Transport.Sent);
    }

    [Fact]
    public async Task SlashPermissionsApproval_WritesTheGlobalFileKeepingItsRules_AndTheNextStartUsesIt()
    {
        await File.WriteAllTextAsync(PermissionsFiles.GlobalPath(_home), """{"version": 1, "rules": {"ask": ["write:src/**"]}}""", Ct);
        await using var cockpit = await Cockpit.StartAsync(_home, interactiveRun: false);
        var auto = cockpit.Automator;

        await SendAsync(auto, "/permissions approval");
        await auto.WaitUntilTextAsync("permission mode approval written to");
        await SendAsync(auto, "go");
        await cockpit.Transport.WaitForAsync(1);

        var start = Assert.IsType<CockpitCommand.StartRun>(cockpit.Transport.Sent.Single());
        Assert.Equal("approval", start.PermissionMode);
        Assert.Equal(["write:src/**@user"], start.Permissions!.Ask);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(PermissionsFiles.GlobalPath(_home)));
    }

    [Fact]
    public async Task Login_TheTokenIsNeverDrawn_ARefusedOneIsNotStored_AnAcceptedOneIsStored0600()
    {
        await using var cockpit = await Cockpit.StartAsync(_home, signedIn: false);
        var auto = cockpit.Automator;
        await auto.WaitUntilTextAsync("Token: paste or type it");

        await auto.TypeAsync("wrong-secret-1234", Ct);
        await auto.WaitUntilTextAsync("17 characters");
        Assert.DoesNotContain("wrong-secret", Text(auto), StringComparison.Ordinal);
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync("the server refused this token");
        Assert.False(File.Exists(AuthFile.PathIn(_home)));

        await auto.TypeAsync("good-secret-5678", Ct);
        await auto.BackspaceAsync(Ct);
        await auto.TypeAsync("8", Ct);
        Assert.DoesNotContain("good-secret", Text(auto), StringComparison.Ordinal);
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync("signed in to unix:/test.sock");

        Assert.DoesNotContain("good-secret", Text(auto), StringComparison.Ordinal);
        Assert.Contains("\"token\": \"good-secret-5678\"", await File.ReadAllTextAsync(AuthFile.PathIn(_home), Ct), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(AuthFile.PathIn(_home)));
        Assert.Equal(["wrong-secret-1234", "good-secret-5678"], cockpit.Transport.Tokens);

        // The composer is back: typing is drawn again.
        await auto.TypeAsync("visible text", Ct);
        await auto.WaitUntilTextAsync("visible text");

        // The session log has the sign-in's notices, and neither token.
        var log = Directory.GetFiles(Path.Combine(_home, "logs"), "*.jsonl").Single();
        var logged = await File.ReadAllTextAsync(log, Ct);
        Assert.Contains("\"kind\":\"notice\"", logged, StringComparison.Ordinal);
        Assert.Contains("signed in to unix:/test.sock", logged, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-", logged, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log));
    }

    [Fact]
    public async Task Logout_RemovesTheStoredTokenKeepingOtherSections_AndOpensTheSignInLine()
    {
        await File.WriteAllTextAsync(AuthFile.PathIn(_home), """{"other": {"keep": true}, "mogplex": {"token": "old-token", "url": "unix:/test.sock"}}""", Ct);
        await using var cockpit = await Cockpit.StartAsync(_home);
        var auto = cockpit.Automator;

        await SendAsync(auto, "/logout");
        await auto.WaitUntilTextAsync("signed out: the token was removed from");
        await auto.WaitUntilTextAsync("Token: paste or type it");

        var left = await File.ReadAllTextAsync(AuthFile.PathIn(_home), Ct);
        Assert.DoesNotContain("old-token", left, StringComparison.Ordinal);
        Assert.Contains("\"keep\": true", left, StringComparison.Ordinal);
        Assert.False(cockpit.Transport.SignedIn);
        await auto.EscapeAsync(Ct);
        await auto.WaitUntilTextAsync("sign-in cancelled");
    }

    [Fact]
    public async Task TheTitleCountsRunsThatNeedYou_TheBellRingsOnceWhenThatRises()
    {
        await using var cockpit = await Cockpit.StartAsync(_home);
        var auto = cockpit.Automator;

        cockpit.Transport.Publish(new CockpitEvent.RunSnapshot(new RunSummary("run-2") { Status = "running", Interactive = true, Awaiting = "approval" }));
        await auto.WaitUntilTextAsync("1 need you");
        cockpit.Transport.Publish(new CockpitEvent.RunSnapshot(new RunSummary("run-3") { Status = "running", Interactive = true, Awaiting = "input" }));
        await auto.WaitUntilTextAsync("2 need you");
        cockpit.Transport.Publish(new CockpitEvent.RunSnapshot(new RunSummary("run-3") { Status = "success" }));
        await auto.WaitUntilTextAsync("1 need you");

        Assert.Equal(2, cockpit.Signals.Bells);
        Assert.Equal(["mogplex", "(1) mogplex", "(2) mogplex", "(1) mogplex"], cockpit.Signals.Titles);
    }

    private static async Task SendAsync(Hex1bTerminalAutomator auto, string text)
    {
        await auto.TypeAsync(text, Ct);
        await auto.EnterAsync(Ct);
    }

    private static string Text(Hex1bTerminalAutomator auto) => auto.CreateSnapshot().GetScreenText();

    private sealed class RecordingSignals : ITerminalSignals
    {
        public List<string> Titles { get; } = [];

        public int Bells { get; private set; }

        public void Title(string title) => Titles.Add(title);

        public void Bell() => Bells++;
    }

    /// <summary>A transport with one open interactive run (or none) that records every command and sign-in.</summary>
    private sealed class RecordingTransport(bool interactiveRun, bool signedIn) : ICockpitTransport, ICockpitSignIn
    {
        private readonly Channel<CockpitEvent> _events = Channel.CreateUnbounded<CockpitEvent>();
        private readonly Lock _gate = new();
        private readonly List<CockpitCommand> _sent = [];

        public string Name => "daemon";

        public string Address => "unix:/test.sock";

        public bool SignedIn { get; private set; } = signedIn;

        public List<string> Tokens { get; } = [];

        public IReadOnlyList<CockpitCommand> Sent
        {
            get
            {
                lock (_gate)
                {
                    return [.. _sent];
                }
            }
        }

        public List<CockpitCommand.SendMessage> Messages() => [.. Sent.OfType<CockpitCommand.SendMessage>()];

        public void Publish(CockpitEvent e) => _events.Writer.TryWrite(e);

        public async IAsyncEnumerable<CockpitEvent> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        {
            yield return new CockpitEvent.HealthChanged(TransportHealth.Nominal);
            if (interactiveRun)
            {
                yield return new CockpitEvent.RunSnapshot(new RunSummary(Cockpit.RunId) { Status = "running", Interactive = true, Harness = "codex" }, StartedHere: true);
            }

            await foreach (var e in _events.Reader.ReadAllAsync(ct))
            {
                yield return e;
            }
        }

        public Task<string?> SendAsync(CockpitCommand command, CancellationToken ct)
        {
            lock (_gate)
            {
                _sent.Add(command);
            }

            return Task.FromResult<string?>(null);
        }

        public Task<string?> SignInAsync(string token, CancellationToken ct)
        {
            Tokens.Add(token);
            SignedIn = token.StartsWith("good-", StringComparison.Ordinal);
            return Task.FromResult(SignedIn ? null : "the server refused this token (401): nothing was stored");
        }

        public void SignOut() => SignedIn = false;

        public async Task WaitForAsync(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Sent.Count < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the cockpit sent {Sent.Count} commands, not {count}");
                await Task.Delay(20, Ct);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>The app in a headless terminal (<see cref="HeadlessCockpit"/>) on a <see cref="RecordingTransport"/>, with a home folder and recorded signals.</summary>
    private sealed class Cockpit(HeadlessCockpit ui, RecordingTransport transport, RecordingSignals signals) : IAsyncDisposable
    {
        public const string RunId = "run-1";

        public Hex1bTerminalAutomator Automator => ui.Automator;

        public RecordingTransport Transport => transport;

        public RecordingSignals Signals => signals;

        public static async Task<Cockpit> StartAsync(string home, bool interactiveRun = true, bool signedIn = true)
        {
            var transport = new RecordingTransport(interactiveRun, signedIn);
            var signals = new RecordingSignals();
            var ui = await HeadlessCockpit.StartAsync(transport, home: new CockpitHome(home, () => "repo-1"), signals: signals, ready: "daemon: nominal", width: Width, height: Height);
            return new Cockpit(ui, transport, signals);
        }

        public ValueTask DisposeAsync() => ui.DisposeAsync();
    }
}
