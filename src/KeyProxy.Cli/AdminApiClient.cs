using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace KeyProxy.Cli;

/// <summary>
/// A typed client of one silo's admin API (<c>/api</c>). Every failure becomes a <see cref="CliException"/> with a line an
/// operator can act on: the API unreachable, no answer in time, or the status with the API's own error text
/// (<c>{ "error" }</c> or every entry of <c>{ "errors": [...] }</c>). The token, when given, goes as
/// <c>Authorization: Bearer</c> and appears in no message.
/// </summary>
public sealed class AdminApiClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;

    public AdminApiClient(Uri baseAddress, KeyProxy.AdminAccess.AdminCredentials credentials, TimeSpan timeout)
    {
        BaseAddress = baseAddress;
        _http = credentials.CreateClient(baseAddress, timeout);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    public Uri BaseAddress { get; }

    public Task<ApiResult<SubscriberPage>> ListSubscribersAsync(int skip, int take, CancellationToken ct) =>
        GetAsync<SubscriberPage>($"api/subscribers?skip={skip}&take={take}", ct);

    public Task<ApiResult<SubscriberSummary>> GetSubscriberAsync(string nai, CancellationToken ct) =>
        GetAsync<SubscriberSummary>("api/subscribers/" + Uri.EscapeDataString(nai), ct);

    /// <summary>PUT the profile JSON as it is (the API checks it); true when it created the subscriber, false when it replaced one.</summary>
    public async Task<(ApiResult<SubscriberSummary> Summary, bool Created)> PutSubscriberAsync(string nai, string profileJson, CancellationToken ct)
    {
        using var content = new StringContent(profileJson, Encoding.UTF8, "application/json");
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Put, "api/subscribers/" + Uri.EscapeDataString(nai)) { Content = content }, ct);
        return (await ReadAsync<SubscriberSummary>(response, ct), response.StatusCode == HttpStatusCode.Created);
    }

    public async Task DeleteSubscriberAsync(string nai, CancellationToken ct)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Delete, "api/subscribers/" + Uri.EscapeDataString(nai)), ct);
        await EnsureSuccessAsync(response, ct);
    }

    public Task<ApiResult<IReadOnlyList<AttachmentItem>>> ListAttachmentsAsync(CancellationToken ct) =>
        GetAsync<IReadOnlyList<AttachmentItem>>("api/attachments", ct);

    /// <summary>Every live session, a page of <paramref name="pageSize"/> at a time (the API's limit is 1000).</summary>
    public async Task<ApiResult<IReadOnlyList<Session>>> ListSessionsAsync(CancellationToken ct, int pageSize = 1000)
    {
        var sessions = new List<Session>();
        var json = new List<JsonElement>();
        for (var skip = 0; ; skip += pageSize)
        {
            var page = await GetAsync<IReadOnlyList<Session>>($"api/sessions?skip={skip}&take={pageSize}", ct);
            sessions.AddRange(page.Value);
            json.AddRange(page.Json.EnumerateArray());
            if (page.Value.Count < pageSize) break;
        }
        return new(sessions, JsonSerializer.SerializeToElement(json));
    }

    public Task<ApiResult<EdgeStatus>> GetEdgeAsync(CancellationToken ct) => GetAsync<EdgeStatus>("api/edge", ct);

    public void Dispose() => _http.Dispose();

    private async Task<ApiResult<T>> GetAsync<T>(string path, CancellationToken ct)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), ct);
        return await ReadAsync<T>(response, ct);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        {
            var what = $"{request.Method} {new Uri(BaseAddress, request.RequestUri!).GetLeftPart(UriPartial.Path)}";
            try
            {
                return await _http.SendAsync(request, ct);
            }
            catch (HttpRequestException e) when (e.InnerException is System.Security.Authentication.AuthenticationException)
            {
                throw new CliException($"the admin API at {BaseAddress} has a certificate this client does not trust: {e.Message} ({what}; give --ca or KEYPROXY_CA)");
            }
            catch (HttpRequestException e)
            {
                throw new CliException($"cannot reach the admin API at {BaseAddress}: {e.Message} ({what}; set --api or KEYPROXY_API)");
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new CliException($"no answer from the admin API at {BaseAddress} within {_http.Timeout.TotalSeconds:0} s ({what})");
            }
        }
    }

    private static async Task<ApiResult<T>> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct)
    {
        await EnsureSuccessAsync(response, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            using var document = JsonDocument.Parse(text);
            var element = document.RootElement.Clone();
            var value = element.Deserialize<T>(Json) ?? throw new JsonException("null body");
            return new(value, element);
        }
        catch (JsonException e)
        {
            throw new CliException($"the admin API answered {(int)response.StatusCode} with a body that is not what this CLI expects: {e.Message}");
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        var problems = ProblemText(await response.Content.ReadAsStringAsync(ct));
        var hint = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => " (check --token or KEYPROXY_TOKEN)",
            HttpStatusCode.Forbidden => " (the token lacks the role: keyproxy.read to read, keyproxy.provision to change)",
            _ => "",
        };
        throw new CliException(problems.Count switch
        {
            0 => $"the admin API answered {status}{hint}",
            1 => $"{status}: {problems[0]}{hint}",
            _ => $"{status}:{hint}\n  " + string.Join("\n  ", problems),
        });
    }

    /// <summary>The API's error text: <c>{ "error": "..." }</c> or <c>{ "errors": ["...", ...] }</c>; nothing for any other body.</summary>
    internal static IReadOnlyList<string> ProblemText(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return [];
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String) return [error.GetString()!];
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
                return [.. errors.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText())];
            return [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
