namespace Mogplex.Contracts.Runs;

/// <summary>[beyond] what a pending run waits for (<see cref="RunQueuePlace.WaitingFor"/>), as spelled on the wire.</summary>
public static class RunWaitReasons
{
    /// <summary>Another run of the same branch (working branch of the same source) is active or goes first.</summary>
    public const string Branch = "branch";

    /// <summary>The run could be claimed, but every worker is busy.</summary>
    public const string Worker = "worker";

    /// <summary>Its user already has as many active runs as the per-user limit (<c>Runs:MaxConcurrentPerUser</c>).</summary>
    public const string UserLimit = "user-limit";
}
