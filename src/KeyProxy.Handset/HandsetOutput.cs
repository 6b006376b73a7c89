using System.Net;
using KeyProxy.Primitives;
using KeyProxy.Wire;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Handset;

/// <summary>What the handset asks its host to do, or tells it, besides the synchronous data path.</summary>
public abstract record HandsetOutput;

/// <summary>A datagram for the edge's access port.</summary>
public sealed record AccessDatagram(byte[] Data) : HandsetOutput;

/// <summary>Something that happened: for the CLI to print and for tests to assert.</summary>
public abstract record HandsetEvent : HandsetOutput;

public sealed record Attached(uint TunnelId, IPAddress Address) : HandsetEvent;

/// <summary>The edge rejected the attach, or it never answered.</summary>
public sealed record AttachFailed(KeyProxyReason? Reason, string Text) : HandsetEvent;

public sealed record Detached(bool Acknowledged) : HandsetEvent;

/// <summary>The edge stopped answering (echo requests unanswered): the attachment and its SAs are gone.</summary>
public sealed record AttachmentLost(uint TunnelId, int UnansweredEchoes) : HandsetEvent;

/// <summary>A key exchange proxy request went to the network (attempt 1 is the first).</summary>
public sealed record ProxyRequested(uint RequestId, IPAddress Peer, int Attempt) : HandsetEvent;

/// <summary>The network refused (at the edge) or failed (in the proxy) a request; its held packets are dropped.</summary>
public sealed record ProxyRefused(uint RequestId, IPAddress Peer, KeyProxyReason Reason, string Text, bool ByEdge, int DroppedPackets) : HandsetEvent;

/// <summary>No answer after every retry; the held packets are dropped.</summary>
public sealed record ProxyRequestTimedOut(uint RequestId, IPAddress Peer, int DroppedPackets) : HandsetEvent;

/// <summary>An SA pair from a key transfer is installed; <paramref name="Replaces"/> is the inbound SPI of the pair it rekeys (0 if new).</summary>
public sealed record SaInstalled(uint InboundSpi, uint OutboundSpi, IPAddress Peer, EspSuite Suite, uint RequestId, uint Replaces, int ReleasedPackets) : HandsetEvent;

public sealed record SaRemoved(uint InboundSpi, uint OutboundSpi, SaRemovalReason Reason) : HandsetEvent;

/// <summary>A soft lifetime of an SA ran out; the network is expected to rekey it.</summary>
public sealed record SaSoftLifetimeReached(uint InboundSpi) : HandsetEvent;

/// <summary>A key transfer that could not be used: forged, truncated, replayed, or naming an unusable SA.</summary>
public sealed record KeyTransferRejected(KeyTransferStatus Status, string Detail) : HandsetEvent;
