namespace Mogplex.Contracts.Events;

/// <summary>The event types of the v1 contract.</summary>
public static class RunEventTypes
{
    public const string Started = "started";
    public const string StatusChanged = "status_changed";
    public const string Log = "log";
    public const string CancelRequested = "cancel_requested";
    public const string Cancelled = "cancelled";
    public const string Finished = "finished";
    public const string Failed = "failed";
    public const string StreamStarted = "stream_started";
    public const string AssistantMessage = "assistant_message";
    public const string Reasoning = "reasoning";
    public const string ToolCall = "tool_call";
    public const string ToolResult = "tool_result";
    public const string Usage = "usage";
    public const string Error = "error";

    /// <summary>[beyond] a turn of the harness's session began (interactive.md): <c>{turnId}</c>.</summary>
    public const string TurnStarted = "turn_started";

    /// <summary>[beyond] a turn ended: <c>{turnId, status: completed|interrupted|failed, error?, usage}</c> (usage: this turn's delta).</summary>
    public const string TurnCompleted = "turn_completed";

    /// <summary>[beyond] a tool call waits for a person (interactive.md).</summary>
    public const string ApprovalRequested = "approval_requested";

    /// <summary>[beyond] a tool call was answered: by a rule, a person, a timeout, or its turn ending.</summary>
    public const string ApprovalDecided = "approval_decided";

    /// <summary>[beyond] a person's follow-up to an interactive run: the text, <c>{messageId, mode: queue|steer}</c>.</summary>
    public const string UserMessage = "user_message";
}
