namespace Mogplex.Contracts;

/// <summary>
/// The routes of the API, relative to <see cref="Base"/>, for the server's endpoints and the
/// clients alike. Ids are inserted as they are: a client escapes them first.
/// </summary>
public static class ApiRoutes
{
    public const string Base = "/api/v1/mogplex";

    public const string Repos = "/repos";
    public const string Runs = "/runs";
    public const string Sandboxes = "/sandboxes";

    public static string Run(string runId) => $"/runs/{runId}";

    public static string RunEvents(string runId) => $"/runs/{runId}/events";

    public static string RunCancel(string runId) => $"/runs/{runId}/cancel";

    /// <summary>[beyond]</summary>
    public static string RunApprovals(string runId) => $"/runs/{runId}/approvals";

    /// <summary>[beyond]</summary>
    public static string RunApproval(string runId, string approvalId) => $"/runs/{runId}/approvals/{approvalId}";

    /// <summary>[beyond]</summary>
    public static string RunMessages(string runId) => $"/runs/{runId}/messages";

    /// <summary>[beyond]</summary>
    public static string RunInterrupt(string runId) => $"/runs/{runId}/interrupt";

    /// <summary>[beyond]</summary>
    public static string RunFinish(string runId) => $"/runs/{runId}/finish";

    /// <summary>[beyond]</summary>
    public static string RunDiff(string runId) => $"/runs/{runId}/diff";

    public static string SandboxLogs(string id) => $"/sandboxes/{id}/logs";

    public static string SandboxStop(string id) => $"/sandboxes/{id}/stop";
}
