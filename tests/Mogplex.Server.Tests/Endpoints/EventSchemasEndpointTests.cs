using System.Net;
using Mogplex.Contracts.Events;
using Mogplex.Server.Tests.Events;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Endpoints;

/// <summary><c>GET /schemas/events/v1[/{type}]</c>: the files, byte for byte, with no token; the error envelope for an unknown type.</summary>
public sealed class EventSchemasEndpointTests
{
    private const string Route = "/api/v1/mogplex/schemas/events/v1";

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Index_NoAuth_TheIndexFileByteForByte()
    {
        await using var server = await ServerFixture.StartAsync();
        using var response = await server.Client().GetAsync(Route, ServerFixture.Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(File.ReadAllBytes(SchemaFile("index")), await response.Content.ReadAsByteArrayAsync(ServerFixture.Ct));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task EveryType_NoAuth_ItsSchemaFileByteForByte_AsSchemaJson()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client();

        foreach (var type in EventSchemaFileTests.AllTypes)
        {
            foreach (var path in new[] { $"{Route}/{type}", $"{Route}/{type}.json" })
            {
                using var response = await client.GetAsync(path, ServerFixture.Ct);

                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(EventSchemas.MediaType, response.Content.Headers.ContentType?.MediaType);
                Assert.Equal(File.ReadAllBytes(SchemaFile(type)), await response.Content.ReadAsByteArrayAsync(ServerFixture.Ct));
            }
        }
    }

    [Theory(Timeout = TestTimeouts.Api)]
    [InlineData("coffee")]
    [InlineData("index")]
    [InlineData("index.json")]
    [InlineData("LOG")]
    // Hostile names reach the lookup as text and name nothing: no file outside the published set is read.
    [InlineData("..%2F..%2Fopenapi.json")]
    [InlineData("..%2Flog")]
    [InlineData("log%2F..")]
    [InlineData("log.json.json")]
    [InlineData("log%20")]
    [InlineData("%E2%80%AElog")]
    public async Task UnknownType_NotFoundEnvelope(string type)
    {
        await using var server = await ServerFixture.StartAsync();

        var reply = await ApiClient.GetAsync(server.Client(), $"{Route}/{type}");

        ApiAssert.Error(reply, HttpStatusCode.NotFound, "NOT_FOUND", "Unknown event type: the index at /api/v1/mogplex/schemas/events/v1 lists the types");
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task AnotherVersionOrDeeperPath_IsTheFallbacksNotFound()
    {
        await using var server = await ServerFixture.StartAsync();

        ApiAssert.Error(await ApiClient.GetAsync(server.Client(), "/api/v1/mogplex/schemas/events/v2/log"), HttpStatusCode.NotFound, "NOT_FOUND", "Route not found");
        ApiAssert.Error(await ApiClient.GetAsync(server.Client(), $"{Route}/log/extra"), HttpStatusCode.NotFound, "NOT_FOUND", "Route not found");
    }

    private static string SchemaFile(string name) =>
        Path.Combine(EventSchemaFileTests.RepoRoot(), "src", "Mogplex.Contracts", "Events", "Schemas", "v1", name + ".json");
}
