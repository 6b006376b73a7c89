using CsCheck;

namespace KeyProxy.Wire.Tests;

/// <summary>Random damage to encoded messages, for the "typed error, never an exception" properties.</summary>
internal static class Mutator
{
    public enum Kind { FlipBit, SetByte, Truncate, Append, Splice, SetU16, Delete }

    public static readonly Gen<(Kind Kind, int Position, int Value)> One =
        Gen.Select(Gen.Enum<Kind>(), Gen.Int[0, int.MaxValue], Gen.Int);

    public static readonly Gen<(Kind Kind, int Position, int Value)[]> Some = One.Array[1, 4];

    /// <summary>
    /// Applies the mutations. <paramref name="fixLengths"/>, when given, runs after a length-changing mutation on
    /// most inputs so the damage reaches past the outer length checks.
    /// </summary>
    public static byte[] Apply(byte[] input, (Kind Kind, int Position, int Value)[] mutations, Action<byte[]>? fixLengths = null)
    {
        var bytes = (byte[])input.Clone();
        foreach (var (kind, position, value) in mutations)
        {
            if (bytes.Length == 0)
                break;
            int at = position % bytes.Length;
            switch (kind)
            {
                case Kind.FlipBit:
                    bytes[at] ^= (byte)(1 << (value & 7));
                    break;
                case Kind.SetByte:
                    bytes[at] = (byte)value;
                    break;
                case Kind.Truncate:
                    Array.Resize(ref bytes, at);
                    break;
                case Kind.Append:
                    int old = bytes.Length;
                    Array.Resize(ref bytes, old + (value & 31) + 1);
                    new Random(value).NextBytes(bytes.AsSpan(old));
                    break;
                case Kind.Splice:
                    int length = Math.Min((value & 63) + 1, bytes.Length - at);
                    var region = bytes.AsSpan(at, length).ToArray();
                    bytes = [.. bytes.AsSpan(0, at), .. region, .. bytes.AsSpan(at)];
                    break;
                case Kind.SetU16:
                    if (at + 2 <= bytes.Length)
                    {
                        bytes[at] = (byte)(value >> 8);
                        bytes[at + 1] = (byte)value;
                    }

                    break;
                case Kind.Delete:
                    int n = Math.Min((value & 15) + 1, bytes.Length - at);
                    bytes = [.. bytes.AsSpan(0, at), .. bytes.AsSpan(at + n)];
                    break;
            }

            if (fixLengths is not null && kind is Kind.Truncate or Kind.Append or Kind.Splice or Kind.Delete && (value & 0x300) != 0)
                fixLengths(bytes);
        }

        return bytes;
    }

    /// <summary>Rewrites the IKE header Length and the generic payload header Length of a KeyProxy message.</summary>
    public static void FixKeyProxyLengths(byte[] bytes)
    {
        if (bytes.Length >= 28)
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(24), (uint)bytes.Length);
        if (bytes.Length >= 32)
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(30), (ushort)(bytes.Length - 28));
    }
}
