using System.Net;
using KeyProxy.Handset;
using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Scenarios;

/// <summary>
/// What the scenarios with a fleet of attached handsets and loopback peers share: the init (provision, make the
/// fleet, attach it), which peer handset i talks to, and the step result of a first proxied SA (DESIGN flow 1).
/// </summary>
internal static class ProxiedFleet
{
    /// <summary>
    /// Provisions <paramref name="handsets"/> subscribers through the admin API, makes their fleet towards
    /// <paramref name="edge"/> (protecting <paramref name="protect"/>) and attaches every handset; the fleet and how
    /// many did not attach. When the attach throws (cancelled), the fleet is disposed.
    /// </summary>
    public static async Task<(HandsetFleet Fleet, int AttachFailures)> AttachAsync(Uri api, IPEndPoint edge, int handsets, int sockets,
        string naiPrefix, string? protect, TimeSpan attachTimeout, int parallel, CancellationToken ct, string? ikeProposal = null)
    {
        using (var admin = AdminClient.Create(api))
            await admin.ProvisionFleetAsync(naiPrefix, handsets, parallel: 16, ct, ikeProposal);
        var fleet = new HandsetFleet(edge, handsets, sockets, naiPrefix, protect);
        try
        {
            return (fleet, await fleet.AttachAllAsync(attachTimeout, parallel, ct));
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    /// <summary>The peer handset <paramref name="index"/> talks to: <c>.1 .. .peers</c> of the /24 <paramref name="network"/>, round robin.</summary>
    public static IPAddress Peer(IPAddress network, int peers, int index)
    {
        var b = network.GetAddressBytes();
        return new IPAddress([b[0], b[1], b[2], (byte)(index % peers + 1)]);
    }

    /// <summary>The step result of a protected packet sent without an SA: ok when its SA got installed.</summary>
    public static StepResult SaOutcome(object outcome, long bytes) => outcome switch
    {
        SaInstalled => StepResult.Ok(bytes),
        ProxyRefused r => StepResult.Fail($"refused: {r.Reason}", bytes),
        ProxyRequestTimedOut => StepResult.Fail("request timed out", bytes),
        HandsetPacketResult p => StepResult.Fail($"send: {p.Status} {p.Reason}", bytes),
        _ => StepResult.Fail("unexpected " + outcome.GetType().Name, bytes),
    };
}
