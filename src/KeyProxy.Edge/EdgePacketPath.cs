namespace KeyProxy.Edge;

/// <summary>How the edge sends and receives as its handsets' addresses on the network side (<see cref="EdgeOptions.PacketPath"/>).</summary>
public enum EdgePacketPath
{
    /// <summary>
    /// Two UDP sockets bound on each attached handset's address (its IKE and NAT-T ports, IP_FREEBIND): no privilege
    /// beyond binding those ports, any pool including 127.x on one machine; sockets and descriptors grow with the handsets.
    /// </summary>
    Sockets,

    /// <summary>
    /// One TUN device the edge creates with the pool prefix routed to it: whole IP packets for every pool address through a
    /// constant number of descriptors, plain ESP (IP protocol 50) included. Needs CAP_NET_ADMIN and /dev/net/tun, and a pool
    /// outside 127.0.0.0/8 (the kernel treats loopback addresses on any other device as martians).
    /// </summary>
    Tun,
}
