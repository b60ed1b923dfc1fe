using System.Text;
using Mogplex.Server.Engine.Network;

namespace Mogplex.Server.Tests.Network;

public sealed class ProxyRequestTests
{
    private static ProxyRequest? Parse(string head, out string error) =>
        ProxyRequest.TryParse(Encoding.Latin1.GetBytes(head), out var r, out error) ? r : null;

    [Theory]
    [InlineData("CONNECT api.openai.com:443 HTTP/1.1\r\n", "api.openai.com", 443)]
    [InlineData("CONNECT API.OpenAI.com.:443 HTTP/1.1\r\nHost: x\r\n", "api.openai.com", 443)]
    [InlineData("CONNECT [::1]:8080 HTTP/1.1\r\n", "::1", 8080)]
    [InlineData("CONNECT [::ffff:127.0.0.1]:8080 HTTP/1.1\r\n", "127.0.0.1", 8080)]
    [InlineData("CONNECT 127.1:8080 HTTP/1.0\r\n", "127.0.0.1", 8080)]
    public void Connect_TargetIsCanonical(string head, string host, int port)
    {
        var r = Parse(head, out var error);
        Assert.True(r is not null, error);
        Assert.True(r.IsConnect);
        Assert.Equal(host, r.Host);
        Assert.Equal(port, r.Port);
    }

    [Theory]
    [InlineData("CONNECT api.openai.com HTTP/1.1\r\n")]
    [InlineData("CONNECT ::1:443 HTTP/1.1\r\n")]
    [InlineData("CONNECT http://api.openai.com:443 HTTP/1.1\r\n")]
    [InlineData("CONNECT user@api.openai.com:443 HTTP/1.1\r\n")]
    [InlineData("CONNECT [fe80::1%25eth0]:443 HTTP/1.1\r\n")]
    [InlineData("CONNECT  api.openai.com:443 HTTP/1.1\r\n")]
    [InlineData("CONNECT api.openai.com:443 HTTP/2\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: 127.0.0.1:9999\r\n")]
    [InlineData("GET https://api.openai.com/ HTTP/1.1\r\n")]
    [InlineData("GET http://127.0.0.1:9999@127.0.0.1:7421/ HTTP/1.1\r\n")]
    [InlineData("GET http://127.0.0.1:9999\\@127.0.0.1:7421/ HTTP/1.1\r\n")]
    [InlineData("GET http://127.0.0.1:7421#@127.0.0.1:9999/ HTTP/1.1\r\n")]
    [InlineData("GET http://127.0.0.1%3a7421/ HTTP/1.1\r\n")]
    [InlineData("GET http:///x HTTP/1.1\r\n")]
    [InlineData("GET http://127.0.0.1:9999/ HTTP/1.1\r\n Host: folded\r\n")]
    [InlineData("GET http://127.0.0.1:9999/ HTTP/1.1\r\nHost : x\r\n")]
    [InlineData("GET http://127.0.0.1:9999/ HTTP/1.1\r\nX: a\nHost: 127.0.0.1:7421\r\n")]
    [InlineData("GET http://127.0.0.1:9999/\u00e9 HTTP/1.1\r\n")]
    [InlineData("GET http://127.0.0.1:9999/ HTTP/1.1")]
    public void Malformed_Refused(string head)
    {
        Assert.Null(Parse(head, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void AbsoluteForm_RequestLineDecides_HostHeaderReplaced()
    {
        var r = Parse("POST http://127.0.0.1:9999/v1/responses?x=1 HTTP/1.1\r\nHost: 127.0.0.1:7421\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\nConnection: keep-alive\r\nContent-Length: 2\r\n", out var error);

        Assert.True(r is not null, error);
        Assert.Equal(("127.0.0.1", 9999), (r.Host, r.Port));
        Assert.Equal(
            "POST /v1/responses?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9999\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
            Encoding.Latin1.GetString(r.ForwardHead()));
    }

    [Theory]
    [InlineData("GET http://example.com HTTP/1.1\r\n", "example.com", 80, "GET / HTTP/1.1\r\nHost: example.com\r\n")]
    [InlineData("GET HTTP://Example.com?q HTTP/1.0\r\n", "example.com", 80, "GET /?q HTTP/1.0\r\nHost: example.com\r\n")]
    [InlineData("HEAD http://[::1]:8080/a HTTP/1.1\r\n", "::1", 8080, "HEAD /a HTTP/1.1\r\nHost: [::1]:8080\r\n")]
    public void AbsoluteForm_DefaultsAndOriginForm(string head, string host, int port, string forwarded)
    {
        var r = Parse(head, out var error);

        Assert.True(r is not null, error);
        Assert.Equal((host, port), (r.Host, r.Port));
        Assert.Equal(forwarded + "Connection: close\r\n\r\n", Encoding.Latin1.GetString(r.ForwardHead()));
    }
}
