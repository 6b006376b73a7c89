namespace KeyProxy.Abstractions;

/// <summary>A subscriber's profile without key material, plus its current attachment: what the admin API shows.</summary>
[GenerateSerializer, Immutable]
public sealed record SubscriberSummary(
    [property: Id(0)] string Nai,
    [property: Id(1)] string? Msisdn,
    [property: Id(2)] bool ProxyService,
    [property: Id(3)] IReadOnlyList<ProxyCondition> Conditions,
    [property: Id(4)] string IkeIdentity,
    [property: Id(5)] IReadOnlyList<PskPeer> PreSharedKeyPeers,
    [property: Id(6)] bool HasCertificate,
    [property: Id(7)] int TrustedCaCount,
    [property: Id(8)] IReadOnlyList<string> IkeProposals,
    [property: Id(9)] IReadOnlyList<string> EspProposals,
    [property: Id(10)] int Version,
    [property: Id(11)] Attachment? Attachment)
{
    /// <summary>The summary of <paramref name="profile"/>: everything but the secret, the keys and the PEMs.</summary>
    public static SubscriberSummary Of(SubscriberProfile profile, Attachment? attachment)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var peers = new PskPeer[profile.PreSharedKeys.Count];
        for (var i = 0; i < peers.Length; i++)
        {
            peers[i] = new PskPeer(profile.PreSharedKeys[i].PeerPrefix, profile.PreSharedKeys[i].PeerIdentity);
        }

        return new SubscriberSummary(
            profile.Nai, profile.Msisdn, profile.ProxyService, profile.Conditions, profile.IkeIdentity, peers,
            profile.Certificate is not null, profile.TrustedCaPems.Count, profile.IkeProposals, profile.EspProposals,
            profile.Version, attachment);
    }
}
