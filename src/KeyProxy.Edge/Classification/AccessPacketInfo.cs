using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge.Classification;

/// <summary>
/// What classification read from an inner UDP packet, so routing and the proxy request need not
/// parse it again: the destination, the ports and where the UDP payload starts. Empty (not UDP)
/// for other protocols, fragments and dropped packets.
/// </summary>
public readonly record struct AccessPacketInfo(bool IsUdp, IpAddressValue Destination, ushort SourcePort, ushort DestinationPort, int PayloadOffset);
