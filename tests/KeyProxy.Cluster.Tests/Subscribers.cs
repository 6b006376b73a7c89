using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KeyProxy.Cluster.Tests;

/// <summary>Subscribers provisioned through the admin API (README, "Admin API"), as JSON.</summary>
internal static class Subscribers
{
    public const string Psk = "keyproxy-cluster-psk";

    public static string Secret(string nai) => "cluster secret of " + nai;

    /// <summary>A profile with the proxy service, both roles and a pre-shared key for peers in <paramref name="peerPool"/>.</summary>
    public static JsonObject Profile(string nai, string peerPool) => new()
    {
        ["msisdn"] = null,
        ["secret"] = "text:" + Secret(nai),
        ["proxyService"] = true,
        ["conditions"] = new JsonArray(new JsonObject
        {
            ["peerPrefix"] = peerPool,
            ["protocol"] = 0,
            ["startPort"] = 0,
            ["endPort"] = 65535,
            ["roles"] = new JsonArray("initiator", "responder"),
            ["peerIdentity"] = null,
        }),
        ["ikeIdentity"] = "fqdn:" + nai.Replace('@', '.'),
        ["preSharedKeys"] = new JsonArray(new JsonObject
        {
            ["peerPrefix"] = peerPool,
            ["peerIdentity"] = null,
            ["key"] = "base64:" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Psk)),
        }),
        ["certificate"] = null,
        ["trustedCaPems"] = new JsonArray(),
        ["ikeProposals"] = new JsonArray("aes128gcm16-prfsha256-x25519"),
        ["espProposals"] = new JsonArray("aes128gcm16"),
    };

    /// <summary>PUT /api/subscribers/{nai}; the stored summary.</summary>
    /// <remarks>
    /// Sent once: anything but 200/201 fails the test. The rare 500 from a fresh cluster (issue 15) was the subscriber
    /// directory's second activation losing its whole-list write on the ETag; the directory now merges and writes
    /// again, so the retries that hid it are gone and a recurrence shows here.
    /// </remarks>
    public static Task<JsonObject> ProvisionAsync(HttpClient http, string nai, string peerPool, CancellationToken ct) =>
        ProvisionAsync(http, nai, peerPool, Profile(nai, peerPool), ct);

    /// <summary>As above, with the profile <paramref name="profile"/>.</summary>
    public static async Task<JsonObject> ProvisionAsync(HttpClient http, string nai, string peerPool, JsonObject profile, CancellationToken ct)
    {
        using var response = await http.PutAsJsonAsync("/api/subscribers/" + Uri.EscapeDataString(nai), profile, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK,
            $"PUT {nai} at {http.BaseAddress}: {(int)response.StatusCode} {body}; every silo's whole output: {LocalCluster.CurrentLogDirectory.Value ?? "(no cluster)"}");
        return JsonNode.Parse(body)!.AsObject();
    }

    /// <summary>GET /api/subscribers/{nai}: the summary, or null on 404.</summary>
    public static async Task<JsonObject?> GetAsync(HttpClient http, string nai, CancellationToken ct)
    {
        using var response = await http.GetAsync("/api/subscribers/" + Uri.EscapeDataString(nai), ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"GET {nai} at {http.BaseAddress}: {(int)response.StatusCode} {body}; every silo's whole output: {LocalCluster.CurrentLogDirectory.Value ?? "(no cluster)"}");
        return JsonNode.Parse(body)!.AsObject();
    }

    public static string Describe(JsonObject summary) => summary.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
}
