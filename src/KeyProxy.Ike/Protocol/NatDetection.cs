using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>RFC 7296 2.23: NAT_DETECTION_*_IP data = SHA-1(SPIi | SPIr | IP address | port).</summary>
public static class NatDetection
{
    public static byte[] Hash(ulong initiatorSpi, ulong responderSpi, IPEndPoint endpoint)
    {
        Span<byte> input = stackalloc byte[8 + 8 + 16 + 2];
        BinaryPrimitives.WriteUInt64BigEndian(input, initiatorSpi);
        BinaryPrimitives.WriteUInt64BigEndian(input[8..], responderSpi);
        endpoint.Address.TryWriteBytes(input[16..], out var addressLength);
        BinaryPrimitives.WriteUInt16BigEndian(input[(16 + addressLength)..], (ushort)endpoint.Port);
        return SHA1.HashData(input[..(16 + addressLength + 2)]);
    }

    /// <summary>A hash that matches no address: RFC 7296 2.23 lets a node fake a NAT to force UDP encapsulation.</summary>
    public static byte[] Fake(IRandomSource random)
    {
        var bytes = new byte[20];
        random.Fill(bytes);
        return bytes;
    }
}
