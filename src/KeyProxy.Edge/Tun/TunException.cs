namespace KeyProxy.Edge.Tun;

/// <summary>The TUN packet path could not be set up (no /dev/net/tun, no CAP_NET_ADMIN, a clashing route): the edge does not start.</summary>
public sealed class TunException(string message) : Exception(message);
