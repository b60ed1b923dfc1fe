namespace Mogplex.Cli;

/// <summary>The documented exit codes (sysexits style, cli.md § Exit codes).</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Unauthorized = 64;
    public const int Forbidden = 65;
    public const int Unavailable = 69;
    public const int TemporaryFailure = 75;
}
