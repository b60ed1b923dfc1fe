using Mogplex.Cli.Cockpit.Files;
using Mogplex.Cli.Cockpit.Transport;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>Run starts with the permissions files, and <c>/permissions</c>.</summary>
public sealed partial class CockpitApp
{
    /// <summary>
    /// Starts a run with the permissions files as they are now (read again each time): their mode
    /// and every rule. A file that does not read cleanly keeps the run from starting (skipping it
    /// could drop a deny rule); the notice says which file and what is wrong.
    /// </summary>
    private async Task StartAsync(string prompt, string? repoId)
    {
        var permissions = home?.Permissions() ?? ResolvedPermissions.None;
        Change(v => v with { Permissions = permissions });
        if (permissions.Error is { } error)
        {
            Notice("not started: " + Terminal.Text.OneLine(error));
            return;
        }

        var view = View;
        await SendAsync(new CockpitCommand.StartRun(prompt, repoId, permissions.Mode ?? view.PermissionMode, view.Harness, permissions.ToRequest(), view.Model), "starting a run");
    }

    /// <summary><c>/permissions approval|auto</c>: written to the global file (this session's only when the cockpit has no home folder).</summary>
    private void SetPermissionMode(string mode)
    {
        if (home is null)
        {
            Change(v => v with { PermissionMode = mode });
            Notice($"runs started here from now on: permission mode {mode}");
            return;
        }

        if (PermissionsFiles.WriteMode(home.GlobalPermissions, mode) is { } error)
        {
            Notice(Terminal.Text.OneLine(error));
            return;
        }

        var permissions = home.Permissions();
        Change(v => v with { Permissions = permissions });
        Notice(permissions.ModeLayer is { Name: "project" } project && project.Mode != mode
            ? $"permission mode {mode} written to {home.GlobalPermissions}; in this repository {project.Path} sets {project.Mode}, which wins"
            : $"permission mode {mode} written to {home.GlobalPermissions}: runs started from now on get it");
    }

    /// <summary><c>/permissions</c>: the resolved mode and rules, each with its source file.</summary>
    private void ShowPermissions(CockpitView view)
    {
        var permissions = home?.Permissions() ?? ResolvedPermissions.None;
        Change(v => v with { Permissions = permissions });
        var lines = home is null
            ? [$"mode {view.PermissionMode ?? "the server's default"} (this session)"]
            : permissions.Describe();
        Notice(Terminal.Text.OneLine(string.Join(" · ", lines)) + " (/permissions approval|auto)");
    }
}
