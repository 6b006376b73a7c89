namespace KeyProxy.Wire.Ip;

/// <summary>
/// IP address family. The value is the IP version (RFC 791 3.1, RFC 8200 3), and it is also the family byte
/// KeyProxy messages put in front of an address (docs/wire.md, "Addresses").
/// </summary>
public enum IpFamily : byte
{
    None = 0,
    V4 = 4,
    V6 = 6,
}
