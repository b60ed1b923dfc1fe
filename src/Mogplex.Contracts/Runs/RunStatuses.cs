namespace Mogplex.Contracts.Runs;

/// <summary>Run statuses as spelled on the wire. The last three are terminal and final.</summary>
public static class RunStatuses
{
    public const string Pending = "pending";
    public const string Streaming = "streaming";
    public const string Success = "success";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>Every status, in lifecycle order.</summary>
    public static readonly IReadOnlyList<string> All = [Pending, Streaming, Success, Failed, Cancelled];

    /// <summary>True for <c>success</c>, <c>failed</c> and <c>cancelled</c>: no transition leaves them.</summary>
    public static bool IsTerminal(string status) => status is Success or Failed or Cancelled;
}
