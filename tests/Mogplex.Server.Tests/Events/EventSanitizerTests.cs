using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mogplex.Server.Events;

namespace Mogplex.Server.Tests.Events;

public sealed class EventSanitizerTests
{
    // Token-shaped fixtures are assembled from pieces so secret scanners do not flag this file.
    private const string Ghp = "ghp_" + "A1b2C3d4E5f6G7h8I9j0";
    private const string Mog = "mog_" + "Zx9Yw8Vu7T";
    private const string Sk = "sk-" + "proj-Abc123Def456Ghi789";

    // ---- Sensitive keys -------------------------------------------------------------------------

    [Theory]
    [InlineData("authorization")]
    [InlineData("Authorization")]
    [InlineData("AUTHORIZATION")]
    [InlineData("Proxy-Authorization")]
    [InlineData("apikey")]
    [InlineData("apiKey")]
    [InlineData("api_key")]
    [InlineData("Api-Key")]
    [InlineData("X-API-KEY")]
    [InlineData("openai.api.key")]
    [InlineData("token")]
    [InlineData("Token")]
    [InlineData("access_token")]
    [InlineData("refreshToken")]
    [InlineData("ID-TOKEN")]
    [InlineData("tokens")]
    [InlineData("tok_en")]
    [InlineData("secret")]
    [InlineData("client_secret")]
    [InlineData("SECRET_KEY")]
    [InlineData("secrets")]
    [InlineData("password")]
    [InlineData("Password")]
    [InlineData("db.password")]
    [InlineData("PASSWORD_HASH")]
    [InlineData("cookie")]
    [InlineData("Set-Cookie")]
    [InlineData("cookies")]
    [InlineData("credential")]
    [InlineData("credentials")]
    [InlineData("aws_credentials")]
    [InlineData("session")]
    [InlineData("sessionId")]
    [InlineData("SESSION-ID")]
    [InlineData("jwt")]
    [InlineData("JWT")]
    [InlineData("jwtClaims")]
    [InlineData("env")]
    [InlineData("ENV")]
    [InlineData("Env")]
    [InlineData("_env_")]
    [InlineData("e-n-v")]
    [InlineData("environment")]
    [InlineData("Environment")]
    [InlineData("ENVIRONMENT")]
    [InlineData("  environment  ")]
    public void SanitizePayload_SensitiveKey_ValueRedacted(string key)
    {
        var payload = new JsonObject { [key] = "plain value", ["other"] = "kept" };

        var result = EventSanitizer.Default.SanitizePayload(payload);

        AssertJson($$"""{"{{key}}":"[redacted]","other":"kept"}""", result);
    }

    [Theory]
    [InlineData("environmentName")]
    [InlineData("environments")]
    [InlineData("envelope")]
    [InlineData("myEnv")]
    [InlineData("api")]
    [InlineData("key")]
    [InlineData("api_version_key")]
    [InlineData("auth")]
    [InlineData("author")]
    [InlineData("pass")]
    [InlineData("sess")]
    [InlineData("tok")]
    [InlineData("name")]
    [InlineData("description")]
    public void SanitizePayload_NonSensitiveKey_ValueKept(string key)
    {
        var payload = new JsonObject { [key] = "plain value" };

        var result = EventSanitizer.Default.SanitizePayload(payload);

        AssertJson($$"""{"{{key}}":"plain value"}""", result);
    }

    [Theory]
    [InlineData("""{"token":{"nested":"value","n":1}}""")]
    [InlineData("""{"token":["a","b"]}""")]
    [InlineData("""{"token":12345}""")]
    [InlineData("""{"token":true}""")]
    [InlineData("""{"token":null}""")]
    [InlineData("""{"token":""}""")]
    public void SanitizePayload_SensitiveKeyWithAnyValueKind_WholeValueBecomesRedactedString(string json)
    {
        var result = Sanitize(json);

        Assert.Equal("""{"token":"[redacted]"}""", result);
    }

    [Fact]
    public void SanitizePayload_NestedSensitiveKeys_RedactedAtEveryLevel()
    {
        var result = Sanitize("""
            {"password":"p0","outer":{"apiKey":"k1","inner":{"Cookie":"c2","visible":"v"}},"name":"n"}
            """);

        Assert.Equal(
            """{"password":"[redacted]","outer":{"apiKey":"[redacted]","inner":{"Cookie":"[redacted]","visible":"v"}},"name":"n"}""",
            result);
    }

    [Fact]
    public void SanitizePayload_ArrayOfObjects_SensitiveKeysRedactedInEachElement()
    {
        var result = Sanitize("""
            {"headers":[{"name":"a","access_token":"t1"},{"name":"b","session":"s2"},{"name":"c"}]}
            """);

        Assert.Equal(
            """{"headers":[{"name":"a","access_token":"[redacted]"},{"name":"b","session":"[redacted]"},{"name":"c"}]}""",
            result);
    }

    [Fact]
    public void SanitizePayload_SensitiveKeyHoldingDeepContainer_RedactedRatherThanTruncated()
    {
        var result = Sanitize("""{"a":{"b":{"secret":{"c":1}}}}""");

        Assert.Equal("""{"a":{"b":{"secret":"[redacted]"}}}""", result);
    }

    // ---- Token patterns inside strings ------------------------------------------------------------

    [Theory]
    [InlineData("Authorization: Bearer abc.DEF-123_x~+/=, next", "Authorization: Bearer [redacted], next")]
    [InlineData("bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl", "Bearer [redacted]")]
    [InlineData("BEARER\tabc+/=~xyz done", "Bearer [redacted] done")]
    [InlineData("header (Bearer    tok) end", "header (Bearer [redacted]) end")]
    [InlineData("use " + Mog + " now", "use [redacted] now")]
    [InlineData("mog_ABCDEFGH", "[redacted]")]
    [InlineData("x ghp_abcdefghijklmnop y", "x [redacted] y")]
    [InlineData("x gho_abcdefghijklmnop y", "x [redacted] y")]
    [InlineData("x ghs_abcdefghijklmnop y", "x [redacted] y")]
    [InlineData("x ghu_abcdefghijklmnop y", "x [redacted] y")]
    [InlineData("x ghr_abcdefghijklmnop y", "x [redacted] y")]
    [InlineData("pat github_pat_11ABCDEFG0_abcdefghijKLMNOP end", "pat [redacted] end")]
    [InlineData("key sk-abcdefghijklmnop end", "key [redacted] end")]
    [InlineData("key " + Sk + " end", "key [redacted] end")]
    [InlineData("key sk-ant-api03-abc_DEF-ghi123 end", "key [redacted] end")]
    [InlineData("OPENAI_API_KEY=sk-abcdefghijklmnop", "OPENAI_API_KEY=[redacted]")]
    [InlineData("GITHUB_TOKEN=" + Ghp + "\n", "GITHUB_TOKEN=[redacted]\n")]
    [InlineData("(" + Ghp + ")", "([redacted])")]
    [InlineData("\"" + Mog + "\"", "\"[redacted]\"")]
    [InlineData("_" + Mog, "_[redacted]")]
    [InlineData(Ghp + " and " + Sk + " and " + Mog, "[redacted] and [redacted] and [redacted]")]
    [InlineData("ghp_abcdefghijklmnop.rest", "[redacted].rest")]
    public void SanitizeString_TokenInsideText_TokenRedacted(string input, string expected)
    {
        Assert.Equal(expected, EventSanitizer.Default.SanitizeString(input));
    }

    [Theory]
    [InlineData("plain text with nothing to hide")]
    [InlineData("task-abcdefghijklmnopqrstuvwxyz")]
    [InlineData("desk-abcdefghijklmnopqrstuvwxyz")]
    [InlineData("risk-assessment-for-the-quarter-2025")]
    [InlineData("smog_abcdefghijklmnop")]
    [InlineData("mog_short")]
    [InlineData("mog_1234567")]
    [InlineData("MOG_SERVER_URL")]
    [InlineData("mog_ABC-DEFGHIJ")]
    [InlineData("ghp_abcdefghijklmno")]
    [InlineData("ghx_abcdefghijklmnopqrst")]
    [InlineData("GHP_ABCDEFGHIJKLMNOPQRST")]
    [InlineData("aghp_abcdefghijklmnopqrst")]
    [InlineData("github_pat_abcdefghijklmno")]
    [InlineData("sk-abcdefghijklmno")]
    [InlineData("SK-ABCDEFGHIJKLMNOPQRST")]
    [InlineData("xbearer abcdef")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData("Bearer: abc")]
    [InlineData("the sky-high ghost ask-me mog")]
    public void SanitizeString_NearMiss_ReturnedUnchanged(string input)
    {
        Assert.Same(input, EventSanitizer.Default.SanitizeString(input));
    }

    [Fact]
    public void SanitizeString_TokenAtBothEnds_BothRedacted()
    {
        var result = EventSanitizer.Default.SanitizeString(Ghp + " middle " + Mog);

        Assert.Equal("[redacted] middle [redacted]", result);
    }

    [Fact]
    public void SanitizeString_AdjacentTokens_MergedIntoOneRedaction()
    {
        var result = EventSanitizer.Default.SanitizeString("Bearer " + Ghp);

        Assert.Equal("Bearer [redacted]", result);
    }

    [Fact]
    public void SanitizeString_UnicodeText_KeptIntactAndTokensRedacted()
    {
        const string Plain = "héllo wörld — 日本語 😀 Ω";

        Assert.Same(Plain, EventSanitizer.Default.SanitizeString(Plain));
        Assert.Equal("密钥 [redacted] 🚀", EventSanitizer.Default.SanitizeString("密钥 " + Ghp + " 🚀"));
    }

    [Fact]
    public void SanitizeString_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => EventSanitizer.Default.SanitizeString(null!));
    }

    [Fact]
    public void SanitizeMessage_Null_ReturnsNull()
    {
        Assert.Null(EventSanitizer.Default.SanitizeMessage(null));
    }

    [Fact]
    public void SanitizeMessage_TokenAndOverlength_RedactedThenTruncated()
    {
        var message = "token " + Ghp + " " + new string('x', 2_500);

        var result = EventSanitizer.Default.SanitizeMessage(message);

        // "token [redacted] " is 17 characters, so 1,983 x's fit and 517 are cut.
        Assert.Equal("token [redacted] " + new string('x', 1_983) + "\n...[truncated 517 chars]", result);
    }

    [Fact]
    public void SanitizeMessage_EmptyString_ReturnsEmpty()
    {
        Assert.Equal(string.Empty, EventSanitizer.Default.SanitizeMessage(string.Empty));
    }

    // ---- Injected secret values -----------------------------------------------------------------

    [Fact]
    public void SanitizeString_InjectedSecret_RedactedEverywhere()
    {
        var sanitizer = new EventSanitizer(["hunter2-prod"]);

        var result = sanitizer.SanitizeString("pw=hunter2-prod; again hunter2-prod!");

        Assert.Equal("pw=[redacted]; again [redacted]!", result);
    }

    [Fact]
    public void SanitizeString_MultipleSecrets_AllRedacted()
    {
        var sanitizer = new EventSanitizer(["alpha-secret", "beta-secret-value", "gamma99"]);

        var result = sanitizer.SanitizeString("a=alpha-secret b=beta-secret-value c=gamma99 d=delta");

        Assert.Equal("a=[redacted] b=[redacted] c=[redacted] d=delta", result);
    }

    [Fact]
    public void SanitizeString_SecretContainingAnotherSecret_LongestWins()
    {
        var sanitizer = new EventSanitizer(["abcdef", "abcdefghij"]);

        Assert.Equal("xx [redacted] yy", sanitizer.SanitizeString("xx abcdefghij yy"));
        Assert.Equal("xx [redacted]zz yy", sanitizer.SanitizeString("xx abcdefzz yy"));
    }

    [Fact]
    public void SanitizeString_OverlappingSecrets_WholeSpanRedacted()
    {
        var sanitizer = new EventSanitizer(["abcdef123", "def123xyz"]);

        var result = sanitizer.SanitizeString("<abcdef123xyz>");

        Assert.Equal("<[redacted]>", result);
    }

    [Fact]
    public void SanitizeString_SelfOverlappingSecret_WholeRunRedacted()
    {
        var sanitizer = new EventSanitizer(["aaaaaa"]);

        Assert.Equal("b[redacted]b", sanitizer.SanitizeString("baaaaaaab"));
    }

    [Fact]
    public void SanitizeString_SecretOverlappingToken_RedactedOnce()
    {
        var sanitizer = new EventSanitizer(["prefix-" + Ghp]);

        Assert.Equal("x [redacted] y", sanitizer.SanitizeString("x prefix-" + Ghp + " y"));
    }

    [Fact]
    public void SanitizeString_SecretAsBearerToken_BearerPrefixKept()
    {
        var sanitizer = new EventSanitizer(["opaque-session-value"]);

        Assert.Equal("Bearer [redacted], then [redacted]", sanitizer.SanitizeString("bearer opaque-session-value, then opaque-session-value"));
    }

    [Fact]
    public void SanitizeString_SecretWithRegexCharacters_MatchedLiterally()
    {
        var sanitizer = new EventSanitizer(["a.b*c+d?(e)"]);

        Assert.Equal("[redacted] aXbbc+d?(e)", sanitizer.SanitizeString("a.b*c+d?(e) aXbbc+d?(e)"));
    }

    [Fact]
    public void SanitizeString_SecretDifferentCase_NotRedacted()
    {
        var sanitizer = new EventSanitizer(["MySecret1"]);
        const string Input = "mysecret1 MYSECRET1";

        Assert.Same(Input, sanitizer.SanitizeString(Input));
    }

    [Fact]
    public void SanitizeString_SecretOfExactlySixChars_Redacted()
    {
        var sanitizer = new EventSanitizer(["123456"]);

        Assert.Equal("pin [redacted]", sanitizer.SanitizeString("pin 123456"));
    }

    [Fact]
    public void SanitizeString_ShortNullEmptyOrWhitespaceSecrets_Ignored()
    {
        var sanitizer = new EventSanitizer([null!, "", "      ", "\t\n   \t", "1", "true", "dev", "12345"]);
        const string Input = "flag=1 verbose=true stage=dev pin=12345 gap=      end";

        Assert.Same(Input, sanitizer.SanitizeString(Input));
    }

    [Fact]
    public void SanitizeString_DuplicateSecrets_RedactedOnce()
    {
        var sanitizer = new EventSanitizer(["repeat-me", "repeat-me"]);

        Assert.Equal("[redacted]/[redacted]", sanitizer.SanitizeString("repeat-me/repeat-me"));
    }

    [Fact]
    public void Constructor_NullSecrets_BehavesLikeDefault()
    {
        var sanitizer = new EventSanitizer(null);

        Assert.Equal("[redacted] abcdefgh", sanitizer.SanitizeString(Ghp + " abcdefgh"));
    }

    [Fact]
    public void Default_UnknownValue_NotRedacted()
    {
        const string Input = "hunter2-prod is just text here";

        Assert.Same(Input, EventSanitizer.Default.SanitizeString(Input));
    }

    [Fact]
    public void WithSecrets_AddsSecrets_KeepsOriginalSanitizerUnchanged()
    {
        var original = new EventSanitizer(["first-secret"]);

        var extended = original.WithSecrets(["second-secret"]);

        Assert.Equal("[redacted] [redacted]", extended.SanitizeString("first-secret second-secret"));
        Assert.Equal("[redacted] second-secret", original.SanitizeString("first-secret second-secret"));
        Assert.NotSame(original, extended);
    }

    [Fact]
    public void WithSecrets_OnDefault_DoesNotAffectDefault()
    {
        var extended = EventSanitizer.Default.WithSecrets(["only-here"]);

        Assert.Equal("[redacted]", extended.SanitizeString("only-here"));
        Assert.Equal("only-here", EventSanitizer.Default.SanitizeString("only-here"));
    }

    [Fact]
    public void WithSecrets_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => EventSanitizer.Default.WithSecrets(null!));
    }

    [Fact]
    public void SanitizePayload_InjectedSecretInNestedValuesAndNames_Redacted()
    {
        var sanitizer = new EventSanitizer(["s3cr3t-value"]);

        var result = Sanitize(
            """{"cmd":"curl -u s3cr3t-value","list":["ok","x s3cr3t-value"],"s3cr3t-value":1}""",
            sanitizer);

        Assert.Equal("""{"cmd":"curl -u [redacted]","list":["ok","x [redacted]"],"[redacted]":1}""", result);
    }

    // ---- Property names -------------------------------------------------------------------------

    [Fact]
    public void SanitizePayload_TokenAsPropertyName_NameRedacted()
    {
        var payload = new JsonObject { [Ghp] = "value", ["prefix " + Mog] = 2 };

        var result = EventSanitizer.Default.SanitizePayload(payload);

        AssertJson("""{"[redacted]":"value","prefix [redacted]":2}""", result);
    }

    [Fact]
    public void SanitizePayload_NamesCollidingAfterRedaction_LaterNamesSuffixed()
    {
        var payload = new JsonObject
        {
            [Ghp] = 1,
            [Mog] = 2,
            [Sk] = 3,
            ["[redacted]#2"] = 4,
        };

        var result = EventSanitizer.Default.SanitizePayload(payload);

        AssertJson("""{"[redacted]":1,"[redacted]#2":2,"[redacted]#3":3,"[redacted]#2#2":4}""", result);
    }

    [Fact]
    public void SanitizePayload_OverlongPropertyName_NameTruncated()
    {
        var name = new string('k', 2_001);
        var payload = new JsonObject { [name] = 1 };

        var result = EventSanitizer.Default.SanitizePayload(payload)!.AsObject();

        var (actualName, value) = Assert.Single(result);
        Assert.Equal(new string('k', 2_000) + "\n...[truncated 1 chars]", actualName);
        Assert.Equal(1, value!.GetValue<int>());
    }

    [Fact]
    public void SanitizePayload_SensitiveKeyContainingToken_NameAndValueRedacted()
    {
        var payload = new JsonObject { ["token " + Ghp] = "value" };

        var result = EventSanitizer.Default.SanitizePayload(payload);

        AssertJson("""{"token [redacted]":"[redacted]"}""", result);
    }

    // ---- String truncation ----------------------------------------------------------------------

    [Fact]
    public void SanitizeString_Exactly2000Chars_ReturnedUnchanged()
    {
        var input = new string('a', 2_000);

        Assert.Same(input, EventSanitizer.Default.SanitizeString(input));
    }

    [Fact]
    public void SanitizeString_2001Chars_CutWithMarker()
    {
        var input = new string('a', 2_000) + "b";

        var result = EventSanitizer.Default.SanitizeString(input);

        Assert.Equal(new string('a', 2_000) + "\n...[truncated 1 chars]", result);
    }

    [Fact]
    public void SanitizeString_5000Chars_MarkerCountsRemovedChars()
    {
        var input = new string('a', 2_000) + new string('b', 3_000);

        var result = EventSanitizer.Default.SanitizeString(input);

        Assert.Equal(new string('a', 2_000) + "\n...[truncated 3000 chars]", result);
    }

    [Fact]
    public void SanitizeString_TokenStraddlingLimit_RedactedBeforeTruncation()
    {
        // The token occupies indices 1,995..2,018 of the input, across the 2,000-character cut.
        var input = new string('a', 1_994) + " " + Ghp + " tail";

        var result = EventSanitizer.Default.SanitizeString(input);

        // Redacted: 1,994 + 1 + 10 + 5 = 2,010 characters, so 10 are cut.
        Assert.Equal(new string('a', 1_994) + " [reda" + "\n...[truncated 10 chars]", result);
        Assert.DoesNotContain("ghp_", result, StringComparison.Ordinal);
    }

    [Fact]
    public void SanitizeString_SecretStraddlingLimit_RedactedBeforeTruncation()
    {
        var sanitizer = new EventSanitizer(["0123456789ABCDEF"]);
        var input = new string('a', 1_992) + "0123456789ABCDEF";

        var result = sanitizer.SanitizeString(input);

        Assert.Equal(new string('a', 1_992) + "[redacte" + "\n...[truncated 2 chars]", result);
        Assert.DoesNotContain("01234567", result, StringComparison.Ordinal);
    }

    [Fact]
    public void SanitizeString_RedactionShrinksBelowLimit_NotTruncated()
    {
        var input = new string('a', 1_989) + " " + Ghp;

        var result = EventSanitizer.Default.SanitizeString(input);

        Assert.Equal(new string('a', 1_989) + " [redacted]", result);
    }

    [Fact]
    public void SanitizeString_SurrogatePairOnLimit_PairNotSplit()
    {
        var input = new string('a', 1_999) + "😀" + "bbb";

        var result = EventSanitizer.Default.SanitizeString(input);

        Assert.Equal(new string('a', 1_999) + "\n...[truncated 5 chars]", result);
    }

    [Fact]
    public void SanitizeString_SurrogatePairEndingOnLimit_PairKept()
    {
        var input = new string('a', 1_998) + "😀" + "bbb";

        var result = EventSanitizer.Default.SanitizeString(input);

        Assert.Equal(new string('a', 1_998) + "😀" + "\n...[truncated 3 chars]", result);
    }

    [Fact]
    public void SanitizePayload_LongStringValue_Truncated()
    {
        var payload = new JsonObject { ["output"] = new string('z', 2_100) };

        var result = EventSanitizer.Default.SanitizePayload(payload)!;

        Assert.Equal(new string('z', 2_000) + "\n...[truncated 100 chars]", result["output"]!.GetValue<string>());
    }

    // ---- Entry limits ---------------------------------------------------------------------------

    [Fact]
    public void SanitizePayload_ArrayWith25Entries_AllKept()
    {
        var result = EventSanitizer.Default.SanitizePayload(new JsonObject { ["items"] = Numbers(25) })!;

        Assert.Equal(Numbers(25).ToJsonString(), result["items"]!.ToJsonString());
    }

    [Fact]
    public void SanitizePayload_ArrayWith26Entries_First25Kept()
    {
        var result = EventSanitizer.Default.SanitizePayload(new JsonObject { ["items"] = Numbers(26) })!;

        Assert.Equal(Numbers(25).ToJsonString(), result["items"]!.ToJsonString());
    }

    [Fact]
    public void SanitizePayload_RootArrayWith100Entries_First25Kept()
    {
        var result = EventSanitizer.Default.SanitizePayload(Numbers(100))!;

        Assert.Equal(Numbers(25).ToJsonString(), result.ToJsonString());
    }

    [Fact]
    public void SanitizePayload_ObjectWith25Properties_AllKept()
    {
        var result = EventSanitizer.Default.SanitizePayload(Properties(25))!;

        Assert.Equal(Properties(25).ToJsonString(), result.ToJsonString());
    }

    [Fact]
    public void SanitizePayload_ObjectWith26Properties_First25KeptInOrder()
    {
        var result = EventSanitizer.Default.SanitizePayload(Properties(26))!.AsObject();

        Assert.Equal(Properties(25).ToJsonString(), result.ToJsonString());
        Assert.Equal("p24", result.Last().Key);
    }

    [Fact]
    public void SanitizePayload_RedactedEntriesCountTowardLimit_First25Kept()
    {
        var payload = Properties(26);
        payload.Insert(0, "password", "x");

        var result = EventSanitizer.Default.SanitizePayload(payload)!.AsObject();

        Assert.Equal(25, result.Count);
        Assert.Equal("[redacted]", result["password"]!.GetValue<string>());
        Assert.Equal("p23", result.Last().Key);
    }

    // ---- Depth limit ----------------------------------------------------------------------------

    [Theory]
    [InlineData("""{"l2":{"l3":{"v":1}}}""", """{"l2":{"l3":{"v":1}}}""")]
    [InlineData("""{"l2":{"l3":{"l4":{"v":1}}}}""", """{"l2":{"l3":{"l4":"[truncated]"}}}""")]
    [InlineData("""{"l2":{"l3":{"l4":{}}}}""", """{"l2":{"l3":{"l4":"[truncated]"}}}""")]
    [InlineData("""[[[1,"a"]]]""", """[[[1,"a"]]]""")]
    [InlineData("""[[[[1]]]]""", """[[["[truncated]"]]]""")]
    [InlineData("""[[[[]],5]]""", """[[["[truncated]"],5]]""")]
    [InlineData("""{"a":[{"b":[1]}]}""", """{"a":[{"b":"[truncated]"}]}""")]
    [InlineData("""{"a":[{"b":"scalar at depth 4 is fine"}]}""", """{"a":[{"b":"scalar at depth 4 is fine"}]}""")]
    [InlineData("""{"a":{"b":{"c":{"d":{"e":{}}}}},"z":1}""", """{"a":{"b":{"c":"[truncated]"}},"z":1}""")]
    public void SanitizePayload_NestedContainers_DepthBeyond3Truncated(string json, string expected)
    {
        Assert.Equal(expected, Sanitize(json));
    }

    // ---- Payload size limit ---------------------------------------------------------------------

    [Fact]
    public void SanitizePayload_JsonOfExactly20000Chars_Kept()
    {
        var json = PayloadJson(lastLength: 1_909, fill: 'x');
        Assert.Equal(20_000, json.Length);

        var result = EventSanitizer.Default.SanitizePayload(JsonNode.Parse(json))!;

        Assert.Equal(json, result.ToJsonString());
    }

    [Fact]
    public void SanitizePayload_JsonOf20001Chars_ReplacedByPreview()
    {
        var json = PayloadJson(lastLength: 1_910, fill: 'x');
        Assert.Equal(20_001, json.Length);

        var result = EventSanitizer.Default.SanitizePayload(JsonNode.Parse(json))!.AsObject();

        Assert.Equal(2, result.Count);
        Assert.True(result["truncated"]!.GetValue<bool>());
        Assert.Equal(JsonValueKind.True, result["truncated"]!.GetValueKind());
        Assert.Equal(json[..20_000], result["payloadPreview"]!.GetValue<string>());
        Assert.Equal(["truncated", "payloadPreview"], result.Select(p => p.Key));
    }

    [Fact]
    public void SanitizePayload_NonAsciiText_CountedAsCharactersNotEscapes()
    {
        // With default escaping every 'é' would be written as \u00E9 and push this far past 20,000.
        var fits = PayloadJson(lastLength: 1_909, fill: 'é');
        var overflows = PayloadJson(lastLength: 1_910, fill: 'é');

        var kept = EventSanitizer.Default.SanitizePayload(JsonNode.Parse(fits))!;
        var cut = EventSanitizer.Default.SanitizePayload(JsonNode.Parse(overflows))!;

        Assert.Equal(fits, kept.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        Assert.Equal(new string('é', 1_909), kept["k09"]!.GetValue<string>());
        Assert.Equal(overflows[..20_000], cut["payloadPreview"]!.GetValue<string>());
    }

    [Fact]
    public void SanitizePayload_LimitCheckedAfterSanitizing_LongStringsCutFirst()
    {
        // Raw JSON is far above 20,000 characters, but after cutting each string to 2,000 it fits.
        var payload = new JsonObject
        {
            ["a"] = new string('a', 50_000),
            ["b"] = new string('b', 50_000),
        };

        var result = EventSanitizer.Default.SanitizePayload(payload)!;

        Assert.Null(result["truncated"]);
        Assert.Equal(new string('a', 2_000) + "\n...[truncated 48000 chars]", result["a"]!.GetValue<string>());
    }

    [Fact]
    public void SanitizePayload_OversizedPayloadWithSecrets_PreviewIsSanitized()
    {
        var payload = new JsonObject { ["password"] = "hunter2-prod", ["lead"] = "Bearer abcdefghijk " + Ghp };
        for (var i = 0; i < 12; i++)
        {
            payload[$"k{i:00}"] = new string('x', 1_990) + " " + Sk;
        }

        var result = EventSanitizer.Default.SanitizePayload(payload)!;

        var preview = result["payloadPreview"]!.GetValue<string>();
        Assert.Equal(20_000, preview.Length);
        Assert.StartsWith("""{"password":"[redacted]","lead":"Bearer [redacted] [redacted]","k00":"xxx""", preview, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", preview, StringComparison.Ordinal);
        Assert.DoesNotContain("ghp_", preview, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-", preview, StringComparison.Ordinal);
    }

    [Fact]
    public void SanitizePayload_OversizedPayloadWithEmoji_PreviewIsExactly20000CharsOfEscapedJson()
    {
        var payload = JsonNode.Parse(PayloadJson(lastLength: 0, fill: 'x'))!.AsObject();
        payload["k09"] = new string('x', 1_875) + "😀😀😀";

        var result = EventSanitizer.Default.SanitizePayload(payload)!;

        // Characters outside the BMP are escaped, so the emojis count 12 characters each and none is split.
        var preview = result["payloadPreview"]!.GetValue<string>();
        Assert.Equal(20_000, preview.Length);
        Assert.EndsWith(new string('x', 1_875) + "\\uD83D\\uDE00\\uD83D\\uDE00\\uD83D\\uDE00", preview, StringComparison.Ordinal);
    }

    // ---- Scalars, nulls and node kinds ----------------------------------------------------------

    [Fact]
    public void SanitizePayload_NullPayload_ReturnsNull()
    {
        Assert.Null(EventSanitizer.Default.SanitizePayload(null));
    }

    [Fact]
    public void SanitizePayload_ScalarsAndNulls_PassThrough()
    {
        const string Json = """{"i":-3,"f":1.5e10,"big":12345678901234567890,"t":true,"f2":false,"n":null,"arr":[null,0,"s"]}""";

        Assert.Equal(Json, Sanitize(Json));
    }

    [Fact]
    public void SanitizePayload_RootStringValue_Sanitized()
    {
        var result = EventSanitizer.Default.SanitizePayload(JsonValue.Create("key " + Sk));

        Assert.Equal("key [redacted]", result!.GetValue<string>());
    }

    [Fact]
    public void SanitizePayload_RootNumber_ClonedNotShared()
    {
        var input = JsonValue.Create(42);

        var result = EventSanitizer.Default.SanitizePayload(input);

        Assert.NotSame(input, result);
        Assert.Equal(42, result!.GetValue<int>());
    }

    [Fact]
    public void SanitizePayload_ClrBackedValues_Sanitized()
    {
        var id = new Guid("0f8fad5b-d9cb-469f-a165-70867728950e");
        var payload = new JsonObject
        {
            ["id"] = id,
            ["at"] = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero),
            ["c"] = 'q',
            ["note"] = "Bearer abcdef",
            ["count"] = 7L,
        };

        var result = EventSanitizer.Default.SanitizePayload(payload);

        AssertJson(
            """{"id":"0f8fad5b-d9cb-469f-a165-70867728950e","at":"2025-01-02T03:04:05+00:00","c":"q","note":"Bearer [redacted]","count":7}""",
            result);
    }

    [Fact]
    public void SanitizePayload_ValueWrappingClrObject_RulesApplied()
    {
        // A JsonValue can wrap a CLR object that serializes as a JSON object; the rules must still reach inside.
        var wrapped = JsonValue.Create(new Dictionary<string, object>
        {
            ["token"] = "t",
            ["msg"] = "sk-abcdefghijklmnop",
            ["deep"] = new Dictionary<string, object> { ["a"] = new Dictionary<string, object> { ["b"] = 1 } },
            ["list"] = new List<string> { "ok", Ghp },
        });
        var payload = new JsonObject { ["wrapped"] = wrapped };

        var result = EventSanitizer.Default.SanitizePayload(payload);

        AssertJson("""{"wrapped":{"token":"[redacted]","msg":"[redacted]","deep":{"a":"[truncated]"},"list":["ok","[redacted]"]}}""", result);
    }

    [Fact]
    public void SanitizePayload_UnicodeStrings_KeptIntact()
    {
        var payload = new JsonObject { ["text"] = "日本語 ✓ 😀 \u0000 \"quoted\" \\ end", ["ключ"] = "значение" };

        var result = EventSanitizer.Default.SanitizePayload(payload)!;

        Assert.Equal("日本語 ✓ 😀 \u0000 \"quoted\" \\ end", result["text"]!.GetValue<string>());
        Assert.Equal("значение", result["ключ"]!.GetValue<string>());
    }

    // ---- Immutability ---------------------------------------------------------------------------

    [Fact]
    public void SanitizePayload_AnyInput_InputNotMutated()
    {
        var json = $$"""
            {"password":"p","text":"{{Ghp}}","long":"{{new string('l', 3_000)}}",
             "items":{{Numbers(30).ToJsonString()}},"{{Mog}}":true,"deep":
            """ + """{"a":{"b":{"c":{"d":1}}}}}""";
        var payload = JsonNode.Parse(json)!;
        var before = payload.ToJsonString();

        var result = EventSanitizer.Default.SanitizePayload(payload)!;

        Assert.Equal(before, payload.ToJsonString());
        Assert.NotSame(payload, result);
        Assert.Equal("[redacted]", result["password"]!.GetValue<string>());
    }

    [Fact]
    public void SanitizePayload_ResultModified_InputUnaffected()
    {
        var payload = JsonNode.Parse("""{"a":{"b":[1,2]},"s":"x"}""")!;

        var result = EventSanitizer.Default.SanitizePayload(payload)!;
        result["a"]!["b"]!.AsArray().Add(3);
        result["s"] = "changed";

        Assert.Equal("""{"a":{"b":[1,2]},"s":"x"}""", payload.ToJsonString());
    }

    [Fact]
    public void SanitizePayload_ChildNodeOfAnotherTree_ReturnsDetachedCopy()
    {
        var root = JsonNode.Parse("""{"child":{"token":"t","n":1}}""")!;
        var child = root["child"]!;

        var result = EventSanitizer.Default.SanitizePayload(child)!;

        Assert.Null(result.Parent);
        Assert.Same(root, child.Parent);
        Assert.Equal("""{"token":"[redacted]","n":1}""", result.ToJsonString());
        Assert.Equal("""{"child":{"token":"t","n":1}}""", root.ToJsonString());
    }

    // ---- Helpers --------------------------------------------------------------------------------

    private static string Sanitize(string json, EventSanitizer? sanitizer = null) =>
        (sanitizer ?? EventSanitizer.Default).SanitizePayload(JsonNode.Parse(json))!.ToJsonString();

    private static void AssertJson(string expected, JsonNode? actual) =>
        Assert.Equal(JsonNode.Parse(expected)!.ToJsonString(), actual!.ToJsonString());

    private static JsonArray Numbers(int count)
    {
        var array = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            array.Add(i);
        }

        return array;
    }

    private static JsonObject Properties(int count)
    {
        var obj = new JsonObject();
        for (var i = 0; i < count; i++)
        {
            obj[$"p{i}"] = i;
        }

        return obj;
    }

    // Ten properties k00..k09: nine strings of 2,000 characters and a last one of lastLength, written
    // compactly. Each full entry is "kNN":"…" = 2,008 characters, so the total is 18,091 + lastLength.
    private static string PayloadJson(int lastLength, char fill)
    {
        var builder = new StringBuilder("{");
        for (var i = 0; i < 10; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }

            builder.Append("\"k0").Append(i).Append("\":\"").Append(fill, i == 9 ? lastLength : 2_000).Append('"');
        }

        return builder.Append('}').ToString();
    }
}
