using System.Reflection;
using System.Text.Json;
using Json.Schema;
using Mogplex.Contracts.Events;

namespace Mogplex.Server.Tests.Events;

/// <summary>
/// The schema files themselves: one per event type, an index listing exactly those, each a valid
/// draft 2020-12 schema whose examples validate, and each able to refuse what it must refuse.
/// </summary>
public sealed class EventSchemaFileTests
{
    /// <summary>Every constant of <see cref="RunEventTypes"/>.</summary>
    public static readonly IReadOnlyList<string> AllTypes =
        [.. typeof(RunEventTypes).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!)];

    public static TheoryData<string> Types() => [.. AllTypes];

    [Fact]
    public void EveryEventType_HasASchemaFile_AndNoFileIsExtra()
    {
        Assert.Equal(AllTypes.Order(StringComparer.Ordinal), EventSchemas.Types);
        var folder = Path.Combine(RepoRoot(), "src", "Mogplex.Contracts", "Events", "Schemas", "v1");
        var files = Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(AllTypes.Select(t => t + ".json").Append("index.json").Order(StringComparer.Ordinal), files);
    }

    [Fact]
    public void Index_ListsExactlyTheEventTypes_WithTheirIdsAndUrls()
    {
        using var index = JsonDocument.Parse(EventSchemas.Index);
        Assert.Equal("v1", index.RootElement.GetProperty("version").GetString());
        var listed = index.RootElement.GetProperty("types").EnumerateArray().ToList();

        Assert.Equal(AllTypes.Order(StringComparer.Ordinal), listed.Select(t => t.GetProperty("type").GetString()));
        Assert.All(listed, t =>
        {
            var type = t.GetProperty("type").GetString()!;
            Assert.Equal(EventSchemas.IdOf(type), t.GetProperty("$id").GetString());
            Assert.Equal("/api/v1/mogplex/schemas/events/v1/" + type, t.GetProperty("url").GetString());
        });
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Schema_IsValidDraft202012_NamesItsType_AndItsExamplesValidate(string type)
    {
        using var doc = JsonDocument.Parse(EventSchemaValidator.Text(type));
        var root = doc.RootElement;

        var meta = MetaSchemas.Draft202012.Evaluate(root, EventSchemaValidator.Options);
        Assert.True(meta.IsValid, string.Join("\n", EventSchemaValidator.Errors(meta)));
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", root.GetProperty("$schema").GetString());
        Assert.Equal($"https://mogplex.dev/schemas/events/v1/{type}.json", root.GetProperty("$id").GetString());
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("description").GetString()));
        Assert.Equal(type, root.GetProperty("properties").GetProperty("type").GetProperty("const").GetString());
        var examples = root.GetProperty("examples").EnumerateArray().ToList();
        Assert.NotEmpty(examples);
        Assert.All(examples, e =>
        {
            Assert.Equal(type, e.GetProperty("type").GetString());
            EventSchemaValidator.AssertValid(e);
        });
    }

    /// <summary>A schema that accepted anything would pass every other test: each one refuses another type's event and a broken copy of its own example.</summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void Schema_RefusesAnotherTypeAndAMissingField(string type)
    {
        var schema = EventSchemaValidator.Build(EventSchemaValidator.Text(type));
        using var doc = JsonDocument.Parse(EventSchemaValidator.Text(type));
        var example = doc.RootElement.GetProperty("examples")[0];
        var other = AllTypes.First(t => t != type);

        Assert.False(schema.Evaluate(With(example, "type", JsonValue(other)), EventSchemaValidator.Options).IsValid);
        Assert.False(schema.Evaluate(Without(example, "seq"), EventSchemaValidator.Options).IsValid);
        Assert.False(schema.Evaluate(With(example, "createdAt", JsonValue("2026-11-29 12:00:00")), EventSchemaValidator.Options).IsValid);
        Assert.False(schema.Evaluate(With(example, "message", JsonValue(42)), EventSchemaValidator.Options).IsValid);
    }

    [Theory]
    [InlineData("turn_completed", "status", "\"done\"")]
    [InlineData("approval_decided", "by", "\"someone\"")]
    [InlineData("approval_decided", "decision", "\"maybe\"")]
    [InlineData("approval_requested", "risk", "\"extreme\"")]
    [InlineData("user_message", "mode", "\"shout\"")]
    [InlineData("status_changed", "to", "\"running\"")]
    [InlineData("error", "fatal", "\"yes\"")]
    [InlineData("usage", "input", "\"200\"")]
    public void Schema_RefusesAValueOutsideItsEnumOrType(string type, string field, string value)
    {
        using var doc = JsonDocument.Parse(EventSchemaValidator.Text(type));
        var example = doc.RootElement.GetProperty("examples")[0];
        var payload = System.Text.Json.Nodes.JsonNode.Parse(example.GetProperty("payload").GetRawText())!.AsObject();
        payload[field] = System.Text.Json.Nodes.JsonNode.Parse(value);

        var broken = With(example, "payload", payload.ToJsonString());

        Assert.Empty(EventSchemaValidator.Errors(example));
        Assert.NotEmpty(EventSchemaValidator.Errors(broken));
    }

    [Theory]
    [InlineData("started")]
    [InlineData("finished")]
    [InlineData("assistant_message")]
    public void Schema_OfATypeWithoutPayload_RefusesOne(string type)
    {
        using var doc = JsonDocument.Parse(EventSchemaValidator.Text(type));

        Assert.NotEmpty(EventSchemaValidator.Errors(With(doc.RootElement.GetProperty("examples")[0], "payload", """{"x":1}""")));
    }

    /// <summary>The repository's root (the folder holding mogplex.slnx), found from the test's binaries.</summary>
    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "mogplex.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("mogplex.slnx not found above " + AppContext.BaseDirectory);
    }

    private static string JsonValue<T>(T value) => JsonSerializer.Serialize(value);

    private static JsonElement With(JsonElement evt, string name, string json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(evt.GetRawText())!.AsObject();
        node[name] = System.Text.Json.Nodes.JsonNode.Parse(json);
        return JsonDocument.Parse(node.ToJsonString()).RootElement.Clone();
    }

    private static JsonElement Without(JsonElement evt, string name)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(evt.GetRawText())!.AsObject();
        node.Remove(name);
        return JsonDocument.Parse(node.ToJsonString()).RootElement.Clone();
    }
}
