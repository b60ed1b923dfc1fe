namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// What the cockpit tells the terminal beside the screen (cockpit.md, Screen): the window title
/// (how many runs need you) and the bell (once when that number rises). The title is made by the
/// cockpit from a number, never from server text.
/// </summary>
public interface ITerminalSignals
{
    void Title(string title);

    void Bell();
}
