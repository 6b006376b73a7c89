using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace KeyProxy.Load.Scenarios;

/// <summary>Provisions load subscribers through the silo's admin API (README, "Admin API": <c>PUT /api/subscribers/{nai}</c>).</summary>
public sealed class AdminClient(HttpClient http) : IDisposable
{
    public static AdminClient Create(Uri api) => new(LoadCredentials.Client(api, TimeSpan.FromSeconds(30)));

    /// <summary>
    /// Creates or replaces the subscriber: its secret, the proxy service for peers in 127.0.0.0/8 and 198.18.0.0/15 in both roles with
    /// a pre-shared key (what the later proxied-SA scenarios use). <paramref name="ikeProposal"/> replaces the
    /// profile's default IKE proposal (e.g. to pick the DH group). Throws <see cref="InvalidOperationException"/>
    /// with the API's answer when it refuses.
    /// </summary>
    public async Task ProvisionAsync(string nai, string secret, CancellationToken ct, string? ikeProposal = null)
    {
        var body = new JsonObject
        {
            ["msisdn"] = null,
            ["secret"] = "text:" + secret,
            ["proxyService"] = true,
            ["conditions"] = new JsonArray([.. PeerPrefixes.Select(prefix => new JsonObject
            {
                ["peerPrefix"] = prefix, ["protocol"] = 0, ["startPort"] = 0, ["endPort"] = 65535,
                ["roles"] = new JsonArray("initiator", "responder"), ["peerIdentity"] = null,
            })]),
            ["ikeIdentity"] = "fqdn:" + nai.Replace('@', '.'),
            ["preSharedKeys"] = new JsonArray([.. PeerPrefixes.Select(prefix => new JsonObject { ["peerPrefix"] = prefix, ["peerIdentity"] = null, ["key"] = "text:keyproxy-load-psk" })]),
        };
        if (ikeProposal is not null) body["ikeProposals"] = new JsonArray(ikeProposal);
        // The PUT creates or replaces, so a server error (a silo busy or a cluster still settling) is tried again;
        // a refusal (4xx) is not, and the last answer is what the error says.
        for (int attempt = 1; ; attempt++)
        {
            using var response = await http.PutAsJsonAsync("api/subscribers/" + Uri.EscapeDataString(nai), body, ct);
            if (response.IsSuccessStatusCode) return;
            if ((int)response.StatusCode < 500 || attempt == ProvisionAttempts)
                throw new InvalidOperationException($"provisioning {nai}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}"
                    + (attempt > 1 ? $" (after {attempt} attempts)" : ""));
            await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), ct);
        }
    }

    /// <summary>
    /// Where the load's peers may be: loopback, and RFC 2544's benchmarking range for an edge on the TUN packet path (whose
    /// peers cannot be loopback; load/measure-esp.sh makes a /24 of it local with an AnyIP route).
    /// </summary>
    private static readonly string[] PeerPrefixes = ["127.0.0.0/8", "198.18.0.0/15"];

    /// <summary>How often a provisioning PUT is sent when the silo answers with a server error.</summary>
    public const int ProvisionAttempts = 3;

    /// <summary>Provisions handsets 0..count-1 of a fleet with <paramref name="parallel"/> requests in flight.</summary>
    public Task ProvisionFleetAsync(string naiPrefix, int count, int parallel, CancellationToken ct, string? ikeProposal = null) =>
        Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct },
            async (i, c) => await ProvisionAsync(HandsetFleet.Nai(naiPrefix, i), HandsetFleet.Secret(naiPrefix, i), c, ikeProposal));

    /// <summary>The edge's handset ports and the peer ports the proxy sends to (<c>GET /api/edge</c>, "ports").</summary>
    public async Task<EdgePorts> GetEdgePortsAsync(CancellationToken ct)
    {
        using var response = await http.GetAsync("api/edge", ct);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"GET api/edge: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        var ports = (await response.Content.ReadFromJsonAsync<JsonObject>(ct))?["ports"]
            ?? throw new InvalidOperationException("GET api/edge: no ports in the answer");
        return new EdgePorts((int)ports["handsetIke"]!, (int)ports["handsetNatT"]!, (int)ports["peerIke"]!, (int)ports["peerNatT"]!);
    }

    public void Dispose() => http.Dispose();
}

/// <summary>An edge's UDP ports: those it binds on each handset's address, and those the proxy sends a first IKE_SA_INIT to at a peer.</summary>
public sealed record EdgePorts(int HandsetIke, int HandsetNatT, int PeerIke, int PeerNatT);
