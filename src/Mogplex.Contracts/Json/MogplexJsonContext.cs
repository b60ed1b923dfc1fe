using System.Text.Json;
using System.Text.Json.Serialization;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Repos;
using Mogplex.Contracts.Runs;
using Mogplex.Contracts.Sandboxes;

namespace Mogplex.Contracts.Json;

/// <summary>Source-generated JSON for every wire type (trimming- and AOT-safe).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    Converters = [typeof(UtcMillisecondsConverter)])]
[JsonSerializable(typeof(ApiErrorEnvelope))]
[JsonSerializable(typeof(ApiEnvelope<RunEnvelope>))]
[JsonSerializable(typeof(ApiEnvelope<StartedRun>))]
[JsonSerializable(typeof(ApiEnvelope<RunList>))]
[JsonSerializable(typeof(ApiEnvelope<CancelRunResult>))]
[JsonSerializable(typeof(ApiEnvelope<RunEventsPage>))]
[JsonSerializable(typeof(ApiEnvelope<RepoList>))]
[JsonSerializable(typeof(ApiEnvelope<SandboxList>))]
[JsonSerializable(typeof(ApiEnvelope<SandboxEnvelope>))]
[JsonSerializable(typeof(ApiEnvelope<SandboxLogs>))]
[JsonSerializable(typeof(ApiEnvelope<StopSandboxResult>))]
[JsonSerializable(typeof(ApiEnvelope<HealthStatus>))]
[JsonSerializable(typeof(ApiEnvelope<ApprovalList>))]
[JsonSerializable(typeof(ApiEnvelope<ApprovalEnvelope>))]
[JsonSerializable(typeof(ApprovalClosedEnvelope))]
[JsonSerializable(typeof(DecideApprovalRequest))]
[JsonSerializable(typeof(SendMessageRequest))]
[JsonSerializable(typeof(ApiEnvelope<MessageAccepted>))]
[JsonSerializable(typeof(ApiEnvelope<RunInputAccepted>))]
[JsonSerializable(typeof(ApiEnvelope<RunDiff>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(StartRunRequest))]
[JsonSerializable(typeof(CreateSandboxRequest))]
[JsonSerializable(typeof(RunEvent))]
[JsonSerializable(typeof(StreamEnd))]
public sealed partial class MogplexJsonContext : JsonSerializerContext;
