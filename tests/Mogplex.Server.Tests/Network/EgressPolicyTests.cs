using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Network;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Network;

public sealed class EgressPolicyTests
{
    private static EgressPolicy Policy(params string[] entries) => new(entries.Select(EgressRule.Parse));

    [Theory]
    [InlineData("registry.npmjs.org", "registry.npmjs.org", null)]
    [InlineData(" Registry.NPMJS.org. ", "registry.npmjs.org", null)]
    [InlineData("registry.npmjs.org:443", "registry.npmjs.org", 443)]
    [InlineData("*.Example.org", "*.example.org", null)]
    [InlineData("*.example.org:8443", "*.example.org", 8443)]
    [InlineData("10.0.0.5:8080", "10.0.0.5", 8080)]
    [InlineData("127.1", "127.0.0.1", null)]
    [InlineData("[::1]:9999", "::1", 9999)]
    [InlineData("[0:0:0:0:0:0:0:1]", "::1", null)]
    [InlineData("fd00::1", "fd00::1", null)]
    [InlineData("[::ffff:127.0.0.1]:80", "127.0.0.1", 80)]
    public void Parse_AcceptedEntry_IsCanonical(string entry, string host, int? port)
    {
        var rule = EgressRule.Parse(entry);
        Assert.Equal(host, rule.Host);
        Assert.Equal(port, rule.Port);
    }

    [Theory]
    [InlineData("")]
    [InlineData("*")]
    [InlineData("*.")]
    [InlineData("*.10.0.0.1")]
    [InlineData("a.*.org")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData("host:+80")]
    [InlineData("host:")]
    [InlineData("http://host")]
    [InlineData("user@host")]
    [InlineData("host..org")]
    [InlineData("[::1")]
    [InlineData("[127.0.0.1]:80")]
    [InlineData("fe80::1%eth0")]
    [InlineData("bücher.example")]
    public void Parse_BadEntry_Refused(string entry)
    {
        Assert.False(EgressRule.TryParse(entry, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void Allows_HostAndPort_ExactOrAnyPort()
    {
        var policy = Policy("registry.npmjs.org", "api.example.com:443", "127.0.0.1:9999");

        Assert.True(policy.Allows("registry.npmjs.org", 443));
        Assert.True(policy.Allows("registry.npmjs.org", 80));
        Assert.True(policy.Allows("api.example.com", 443));
        Assert.False(policy.Allows("api.example.com", 80));
        Assert.True(policy.Allows("127.0.0.1", 9999));
        Assert.False(policy.Allows("127.0.0.1", 7421));
        Assert.False(policy.Allows("evil.registry.npmjs.org", 443));
        Assert.False(policy.Allows("registry.npmjs.org.evil.com", 443));
    }

    [Theory]
    [InlineData("API.Example.COM", 443, true)]
    [InlineData("api.example.com.", 443, true)]
    [InlineData("api.example.com..", 443, false)]
    [InlineData("localhost", 9999, false)]
    [InlineData("127.1", 9999, true)]
    [InlineData("2130706433", 9999, true)]
    [InlineData("::ffff:127.0.0.1", 9999, true)]
    [InlineData("::ffff:127.0.0.1", 7421, false)]
    [InlineData("::1", 9999, false)]
    [InlineData("0.0.0.0", 9999, false)]
    [InlineData("127.0.0.2", 9999, false)]
    public void Allows_SpellingsOfOneDestination_MatchOnlyThatDestination(string host, int port, bool allowed)
    {
        var policy = Policy("api.example.com:443", "127.0.0.1:9999");
        Assert.Equal(allowed, policy.Allows(host, port));
    }

    [Fact]
    public void Allows_Wildcard_SubdomainsOnly()
    {
        var policy = Policy("*.example.org");

        Assert.True(policy.Allows("a.example.org", 443));
        Assert.True(policy.Allows("a.b.example.org", 80));
        Assert.False(policy.Allows("example.org", 443));
        Assert.False(policy.Allows("badexample.org", 443));
        Assert.False(policy.Allows("a.example.org.evil", 443));
    }

    [Fact]
    public void MayConnectTo_WildcardName_NeverLoopbackOrLinkLocal_ExactNameTrusted()
    {
        var wildcard = EgressRule.Parse("*.example.org");
        var exact = EgressRule.Parse("localhost:9999");

        foreach (var a in new[] { "127.0.0.1", "127.8.9.10", "::1", "0.0.0.0", "::", "169.254.169.254", "fe80::1", "::ffff:127.0.0.1", "224.0.0.1" })
        {
            Assert.False(EgressPolicy.MayConnectTo(wildcard, IPAddress.Parse(a)), a);
        }

        Assert.True(EgressPolicy.MayConnectTo(wildcard, IPAddress.Parse("93.184.216.34")));
        Assert.True(EgressPolicy.MayConnectTo(wildcard, IPAddress.Parse("2606:2800:220:1::1")));
        Assert.True(EgressPolicy.MayConnectTo(exact, IPAddress.Loopback));
    }

    [Fact]
    public void Policy_ExactRuleBeforeWildcard()
    {
        var policy = Policy("*.example.org", "api.example.org:443");
        Assert.False(policy.Match("api.example.org", 443)!.IsWildcard);
        Assert.True(policy.Match("api.example.org", 80)!.IsWildcard);
    }

    [Fact]
    public void ModelEndpoints_VendorDefaultsWithoutBaseUrl()
    {
        var endpoints = EgressPolicy.ModelEndpoints(new HarnessOptions());

        Assert.Equal([new EgressEndpoint("codex", "api.openai.com", 443), new EgressEndpoint("claude-code", "api.anthropic.com", 443)], endpoints);
        Assert.All(endpoints, e => Assert.False(e.IsLoopback));
    }

    [Fact]
    public void ModelEndpoints_FromBaseUrl_HostAndPortOrSchemeDefault()
    {
        var harnesses = new HarnessOptions();
        harnesses.Codex.BaseUrl = "http://127.0.0.1:41234/v1";
        harnesses.ClaudeCode.BaseUrl = "https://Models.Example.com";
        var endpoints = EgressPolicy.ModelEndpoints(harnesses);

        Assert.Equal(new EgressEndpoint("codex", "127.0.0.1", 41234), endpoints[0]);
        Assert.True(endpoints[0].IsLoopback);
        Assert.Equal(new EgressEndpoint("claude-code", "models.example.com", 443), endpoints[1]);

        harnesses.Codex.BaseUrl = "http://[::1]/";
        harnesses.ClaudeCode.BaseUrl = "http://localhost:8080";
        endpoints = EgressPolicy.ModelEndpoints(harnesses);
        Assert.Equal(new EgressEndpoint("codex", "::1", 80), endpoints[0]);
        Assert.True(endpoints[0].IsLoopback);
        Assert.True(endpoints[1].IsLoopback);
    }

    [Fact]
    public void ModelEndpoints_BadBaseUrl_Throws()
    {
        var harnesses = new HarnessOptions();
        harnesses.Codex.BaseUrl = "ftp://example.com";
        Assert.Throws<FormatException>(() => EgressPolicy.ModelEndpoints(harnesses));
    }

    [Fact]
    public void Create_ModelEndpointsPlusAllowedHosts()
    {
        var harnesses = new HarnessOptions();
        harnesses.Codex.BaseUrl = "http://127.0.0.1:41234";
        var policy = EgressPolicy.Create(harnesses, new SandboxOptions { AllowedHosts = ["registry.npmjs.org", "*.pythonhosted.org:443"] });

        Assert.True(policy.Allows("127.0.0.1", 41234));
        Assert.True(policy.Allows("api.anthropic.com", 443));
        Assert.False(policy.Allows("api.openai.com", 443));
        Assert.True(policy.Allows("registry.npmjs.org", 443));
        Assert.True(policy.Allows("files.pythonhosted.org", 443));
        Assert.False(policy.Allows("127.0.0.1", 41235));
    }

    [Fact]
    public void SandboxOptions_BadAllowedHost_FailsValidationNamingIt()
    {
        var options = new SandboxOptions { AllowedHosts = ["registry.npmjs.org", "host:99999"] };

        var result = new AllowedHostsValidation().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("host:99999", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new AllowedHostsValidation().Validate(null, new SandboxOptions { AllowedHosts = ["registry.npmjs.org"] }).Succeeded);
    }

    [Fact]
    public async Task Server_BadAllowedHost_DoesNotStart()
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ServerFixture.StartAsync(new Dictionary<string, string?> { ["Sandbox:AllowedHosts:0"] = "registry.npmjs.org", ["Sandbox:AllowedHosts:1"] = "*.10.0.0.1" }));
        Assert.Contains("*.10.0.0.1", e.Message, StringComparison.Ordinal);
    }
}
