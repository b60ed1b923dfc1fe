using System.Net;
using Mogplex.Server.Api;
using Mogplex.Server.Configuration;

namespace Mogplex.Server.Tests.Configuration;

public sealed class ListenAddressTests
{
    [Theory]
    [InlineData("http://127.0.0.1:7421", "127.0.0.1", 7421)]
    [InlineData("http://localhost:0", "127.0.0.1", 0)]
    [InlineData("http://[::1]:8080", "::1", 8080)]
    [InlineData("http://127.0.0.2:9000/", "127.0.0.2", 9000)]
    public void Parse_Loopback_Accepted(string url, string ip, int port)
    {
        var address = ListenAddress.Parse(url, allowInsecure: false);
        Assert.Equal(IPAddress.Parse(ip), address.Address);
        Assert.Equal(port, address.Port);
    }

    [Theory]
    [InlineData("http://0.0.0.0:7421")]
    [InlineData("http://10.1.2.3:7421")]
    [InlineData("http://[::]:7421")]
    public void Parse_NonLoopbackWithoutFlag_RefusedNamingTheFlag(string url)
    {
        var ex = Assert.Throws<ArgumentException>(() => ListenAddress.Parse(url, allowInsecure: false));
        Assert.Contains("--allow-insecure-http", ex.Message, StringComparison.Ordinal);
        Assert.Equal(IPAddress.Parse(url[7..url.LastIndexOf(':')].Trim('[', ']')), ListenAddress.Parse(url, allowInsecure: true).Address);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("https://127.0.0.1:7421")]
    [InlineData("http://127.0.0.1:7421/api")]
    [InlineData("http://example.com:7421")]
    [InlineData("unix:/tmp/x.sock")]
    public void Parse_Malformed_Refused(string url) => Assert.Throws<ArgumentException>(() => ListenAddress.Parse(url, allowInsecure: true));

    [Theory]
    [InlineData("abc-123", true)]
    [InlineData("trace:1.2_3", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("new\nline", false)]
    [InlineData("ünïcode", false)]
    public void RequestIdIsSane_Shapes(string value, bool sane) => Assert.Equal(sane, RequestIdMiddleware.IsSane(value));

    [Fact]
    public void RequestIdIsSane_LengthBoundary()
    {
        Assert.True(RequestIdMiddleware.IsSane(new string('a', 128)));
        Assert.False(RequestIdMiddleware.IsSane(new string('a', 129)));
    }
}
