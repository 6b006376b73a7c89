using Orleans.Runtime;

namespace KeyProxy.Abstractions;

/// <summary>
/// An AttachResponse the edge received (docs/wire.md, "Access link"), with the tunnel and address
/// the edge offers if the proof holds. The subscriber grain checks the proof; the edge never sees
/// the secret.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record AttachAttempt(
    [property: Id(0)] string EdgeId,
    [property: Id(1)] byte[] HandsetNonce,
    [property: Id(2)] byte[] EdgeNonce,
    [property: Id(3)] byte[] Proof,
    [property: Id(4)] uint TunnelId,
    [property: Id(5)] string HandsetAddress,
    [property: Id(6)] SiloAddress EdgeSilo);

/// <summary>The subscriber grain's answer: the network's proof and the profile copy, or why not.</summary>
[GenerateSerializer, Immutable]
public sealed record AttachOutcome(
    [property: Id(0)] bool Accepted,
    [property: Id(1)] ushort Reason,
    [property: Id(2)] string Text,
    [property: Id(3)] byte[] NetworkProof,
    [property: Id(4)] EdgeProfileCopy? Profile)
{
    public static AttachOutcome Reject(ushort reason, string text) => new(false, reason, text, [], null);
}
