namespace Mogplex.EndToEnd.Tests.ApiClients;

/// <summary>The served OpenAPI document passes Redocly's <c>recommended</c> ruleset (issue #13).</summary>
public sealed class OpenApiLintTests
{
    [Fact]
    public async Task ServedDocument_RedoclyRecommended_NoErrors()
    {
        await using var api = await ApiClientServer.StartAsync();

        var lint = await ApiTools.RunAsync(ApiTools.Bin("redocly"), ["lint", "--extends=recommended", "--format=stylish", api.DocumentPath], api.WorkDir);

        // Warnings do not fail the test; they are printed for whoever reads its output.
        TestContext.Current.TestOutputHelper?.WriteLine(lint.StdOut + lint.StdErr);
        Assert.True(lint.ExitCode == 0, $"redocly lint (recommended) found errors in the served document\n{lint}");
    }
}
