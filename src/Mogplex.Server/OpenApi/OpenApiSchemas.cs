using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Mogplex.Contracts;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Runs;
using Mogplex.Contracts.Sandboxes;

namespace Mogplex.Server.OpenApi;

/// <summary>
/// What the contract types cannot say by themselves: the closed sets of values (statuses, event
/// types, error codes, modes) as enums, and envelopes whose <c>ok</c> is a constant and whose
/// <c>data</c> is never null.
/// </summary>
public sealed class OpenApiSchemas : IOpenApiSchemaTransformer
{
    /// <summary>Every type of <see cref="RunEventTypes"/>, in declaration order.</summary>
    public static readonly IReadOnlyList<string> EventTypes = ConstantsOf(typeof(RunEventTypes));

    /// <summary>Every code of <see cref="ErrorCodes"/>.</summary>
    public static readonly IReadOnlyList<string> ErrorCodeValues = ConstantsOf(typeof(ErrorCodes));

    /// <summary>
    /// The closed sets, each a named component schema (one type in a generated client, not one per
    /// property): name → values.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Enums = new Dictionary<string, IReadOnlyList<string>>
    {
        ["RunStatus"] = RunStatuses.All,
        ["PermissionMode"] = ["auto", "approval"],
        ["RunAwaiting"] = ["approval", "input"],
        ["RunWaitReason"] = [RunWaitReasons.Branch, RunWaitReasons.Worker, RunWaitReasons.UserLimit],
        ["SandboxStatus"] = SandboxStatuses.All,
        ["ApprovalStatus"] = ["pending", "approved", "rejected", "expired"],
        ["ApprovalRisk"] = ["low", "medium", "high"],
        ["ApprovalDecision"] = ["approve", "reject"],
        ["MessageMode"] = ["queue", "steer"],
        ["RunEventType"] = EventTypes,
        ["ErrorCode"] = ErrorCodeValues,
    };

    /// <summary>(declaring type, JSON property name) → the named set of values it takes (a derived record, such as <see cref="StartedRun"/>, shares its base's entries).</summary>
    private static readonly Dictionary<(Type, string), string> s_enums = new()
    {
        [(typeof(RunDetail), "status")] = "RunStatus",
        [(typeof(CancelRunResult), "status")] = "RunStatus",
        [(typeof(StreamEnd), "status")] = "RunStatus",
        [(typeof(RunDetail), "permissionMode")] = "PermissionMode",
        [(typeof(RunDetail), "awaiting")] = "RunAwaiting",
        [(typeof(RunQueuePlace), "waitingFor")] = "RunWaitReason",
        [(typeof(StartRunRequest), "permissionMode")] = "PermissionMode",
        [(typeof(Sandbox), "status")] = "SandboxStatus",
        [(typeof(Approval), "status")] = "ApprovalStatus",
        [(typeof(Approval), "risk")] = "ApprovalRisk",
        [(typeof(DecideApprovalRequest), "decision")] = "ApprovalDecision",
        [(typeof(SendMessageRequest), "mode")] = "MessageMode",
        [(typeof(RunEvent), "type")] = "RunEventType",
        [(typeof(ApiError), "code")] = "ErrorCode",
    };

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ApiEnvelope<>))
        {
            // Its `data` is never null either: OpenApiDocumentSetup drops the null branch the generic type brings (added after this runs).
            Envelope(schema, ok: true);
        }
        else if (type == typeof(ApiErrorEnvelope) || type == typeof(ApprovalClosedEnvelope))
        {
            Envelope(schema, ok: false);
        }

        if (context.JsonPropertyInfo is { } property && s_enums.TryGetValue((property.DeclaringType, property.Name), out var name))
        {
            // Marked here, made a reference to the named component by OpenApiDocumentSetup (a transformer cannot swap the schema itself).
            var nullable = schema.Type?.HasFlag(JsonSchemaType.Null) == true;
            var allowed = Enums[name].Select(v => (JsonNode)JsonValue.Create(v)).ToList();
            schema.Enum = nullable ? [.. allowed, null!] : allowed;
            schema.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            schema.Extensions[EnumMark] = new JsonNodeExtension(JsonValue.Create(name));
            if (property.DeclaringType == typeof(RunEvent))
            {
                schema.Description = "The event type. Each type's payload has a JSON Schema at `/api/v1/mogplex/schemas/events/v1/{type}`. "
                    + "turn_started, turn_completed, user_message, approval_requested and approval_decided are [beyond] (interactive runs). "
                    + "Types are only ever added (with a new entry here and a new schema); a client should skip a type it does not know.";
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The extension that names a property's enum until the document transformer replaces it with a reference.</summary>
    public const string EnumMark = "x-mogplex-enum";

    private static void Envelope(OpenApiSchema schema, bool ok)
    {
        if (schema.Properties?.TryGetValue("ok", out var okSchema) == true && okSchema is OpenApiSchema s)
        {
            s.Enum = [JsonValue.Create(ok)];
            s.Description = ok ? "Always `true` on a success." : "Always `false` on an error.";
        }
    }

    private static IReadOnlyList<string> ConstantsOf(Type holder) =>
        [.. holder.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!)];
}
