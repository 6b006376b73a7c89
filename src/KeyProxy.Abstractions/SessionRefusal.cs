namespace KeyProxy.Abstractions;

/// <summary>
/// A proxy session's answer to the handset's request <paramref name="RequestId"/> towards <paramref name="PeerAddress"/>
/// when no sealed answer (an SA, or a key transfer saying why not) could be made: the edge sends it as its own
/// ProxyRefusal (docs/wire.md), unsealed like the refusals of its profile checks. <paramref name="Reason"/> is the wire's
/// KeyProxyReason; <paramref name="Text"/> says why in words, and carries nothing secret.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SessionRefusal(
    [property: Id(0)] uint RequestId,
    [property: Id(1)] string PeerAddress,
    [property: Id(2)] ushort Reason,
    [property: Id(3)] string Text);
