using Hex1b;
using Hex1b.Input;
using Hex1b.Widgets;
using Mogplex.Cli.Cockpit.Files;
using Mogplex.Cli.Cockpit.Transport;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>The sign-in line (<c>/login</c>, <c>/logout</c>): a token typed or pasted is never drawn, and is stored only once the server took it.</summary>
public sealed partial class CockpitApp
{
    /// <summary>
    /// The sign-in line: a text box whose own bindings are all replaced, so that typed and pasted
    /// text goes to <see cref="_secret"/> and the box stays empty (the token is never drawn, only
    /// a dot per character in the key hints).
    /// </summary>
    private Hex1bWidget LoginBox(WidgetContext<VStackWidget> v) =>
        v.TextBox().State(_secretBox)
            .OnPaste(async e => AppendSecret(await e.Paste.ReadToEndAsync(4096, _stop?.Token ?? CancellationToken.None)))
            .InputBindings(b =>
            {
                b.RemoveAll();
                b.AnyCharacter().Action(AppendSecret, "Type the token");
                b.Key(Hex1bKey.Backspace).Action(() => EditSecret(s => s.Length = Math.Max(0, s.Length - 1)), "Erase");
                b.Key(Hex1bKey.Enter).Action(() => _ = SignInAsync(), "Sign in");
                b.Key(Hex1bKey.Escape).Action(() => CloseLogin("sign-in cancelled (/login opens it again)"), "Cancel");
            });

    private void AppendSecret(string text) => EditSecret(s => s.Append(text.AsSpan(0, Math.Min(text.Length, Math.Max(0, 4096 - s.Length)))));

    private void EditSecret(Action<System.Text.StringBuilder> edit)
    {
        int length;
        lock (_gate)
        {
            edit(_secret);
            length = _secret.Length;
        }

        _secretBox.Text = "";
        Change(v => v.LoginLength == length ? v : v with { LoginLength = length });
    }

    private string TakeSecret()
    {
        string token;
        lock (_gate)
        {
            token = _secret.ToString();
            _secret.Clear();
        }

        Change(v => v with { LoginLength = 0 });
        return token.Trim();
    }

    private void CloseLogin(string? notice)
    {
        _ = TakeSecret();
        _composerFocused = false;
        Change(v => v with { LoginOpen = false });
        Notice(notice);
    }

    /// <summary><c>/login</c>: the daemon transport takes a token a person gives; the others say why there is nothing to sign in to.</summary>
    private void OpenLogin()
    {
        if (transport is not ICockpitSignIn signIn)
        {
            Notice(transport.Name == "process"
                ? "this cockpit's private mogplexd signs in by itself; /login is for a running mogplexd (MOGPLEX_URL or MOGPLEX_DAEMON_SOCKET)"
                : "a replay has no server to sign in to");
            return;
        }

        _composerFocused = false;
        Change(v => v with { LoginOpen = true, LoginServer = signIn.Address });
        Notice("paste or type a token of this server, then Enter (Esc cancels); it is stored in auth.json (0600)");
    }

    /// <summary>Checks the token with the server, then stores it in <c>auth.json</c>; a refused token is not stored and the line stays open.</summary>
    private async Task SignInAsync()
    {
        var token = TakeSecret();
        if (transport is not ICockpitSignIn signIn)
        {
            CloseLogin(null);
            return;
        }

        if (token.Length == 0)
        {
            Notice("paste or type the token first (Esc cancels)");
            return;
        }

        if (token.Any(c => c <= ' ' || c > '~'))
        {
            Notice("a token has no spaces, control or non-ASCII characters: nothing was stored, try again");
            return;
        }

        _log?.Secret(token);
        Notice("checking the token with " + Terminal.Text.OneLine(signIn.Address) + "…");
        var refused = await signIn.SignInAsync(token, _stop?.Token ?? CancellationToken.None);
        if (refused is not null)
        {
            Notice(Terminal.Text.OneLine(refused));
            return;
        }

        var stored = home is null ? "no home folder to store it in" : AuthFile.Store(home.Home, token, signIn.Address);
        CloseLogin(stored is null
            ? $"signed in to {Terminal.Text.OneLine(signIn.Address)}; the token is stored in {AuthFile.PathIn(home!.Home)}"
            : $"signed in for this session only: {Terminal.Text.OneLine(stored)}");
    }

    /// <summary><c>/logout</c>: the stored token is removed, the daemon transport sends none from now on, and the sign-in line opens.</summary>
    private void Logout()
    {
        if (home is null)
        {
            Notice("nothing to sign out of here");
            return;
        }

        var removed = AuthFile.Remove(home.Home);
        var what = removed ? $"the token was removed from {AuthFile.PathIn(home.Home)}" : $"no token was stored in {AuthFile.PathIn(home.Home)}";
        var environment = home.TokenFromEnvironment ? "; MOGPLEX_API_KEY is still set in your environment: unset it too" : "";
        if (transport is ICockpitSignIn signIn)
        {
            signIn.SignOut();
            _composerFocused = false;
            Change(v => v with { LoginOpen = true, LoginServer = signIn.Address });
            Notice($"signed out: {what}{environment}");
            return;
        }

        Notice($"signed out: {what}{environment} (this cockpit's private mogplexd keeps its own token)");
    }
}
