using KeyProxy.Primitives;

namespace KeyProxy.Wire.Proxy;

/// <summary>
/// A list of ESP suites on the wire (docs/wire.md): count u8 (at most <see cref="MaxSuites"/>), 3 reserved bytes, then
/// 8 bytes per suite (<see cref="EspSuitePreference"/>). In the proxy request and in the attach response.
/// </summary>
internal static class EspSuiteBlock
{
    public const int MaxSuites = 16;

    public static int Length(IReadOnlyList<EspSuitePreference> suites) => 4 + EspSuitePreference.Size * suites.Count;

    public static WireError Validate(IReadOnlyList<EspSuitePreference>? suites)
    {
        if (suites is null || suites.Count > MaxSuites)
            return WireError.LimitExceeded;
        foreach (var s in suites)
            if (s.Esn is not (EsnMode.NoEsn or EsnMode.Esn))
                return WireError.BadValue;
        return WireError.None;
    }

    public static void Write(ref WireWriter w, IReadOnlyList<EspSuitePreference> suites)
    {
        w.U8((byte)suites.Count);
        w.Zeros(3);
        foreach (var s in suites)
        {
            w.U16((ushort)s.Encryption);
            w.U16(s.KeyBits);
            w.U16((ushort)s.Integrity);
            w.U8((byte)s.Esn);
            w.U8(0);
        }
    }

    public static WireError TryRead(ref WireReader r, out IReadOnlyList<EspSuitePreference> suites)
    {
        suites = [];
        if (!r.TryU8(out byte count))
            return WireError.Truncated;
        var error = r.TryReserved(3);
        if (error != WireError.None)
            return error;
        if (count > MaxSuites)
            return WireError.LimitExceeded;
        if (r.Remaining < count * EspSuitePreference.Size)
            return WireError.Truncated;
        var read = count == 0 ? [] : new EspSuitePreference[count];
        for (int i = 0; i < count; i++)
        {
            r.TryU16(out ushort encryption);
            r.TryU16(out ushort keyBits);
            r.TryU16(out ushort integrity);
            r.TryU8(out byte esn);
            if (esn > 1)
                return WireError.BadValue;
            if ((error = r.TryReserved(1)) != WireError.None)
                return error;
            read[i] = new EspSuitePreference((EncryptionAlgorithm)encryption, keyBits, (IntegrityAlgorithm)integrity, (EsnMode)esn);
        }
        suites = read;
        return WireError.None;
    }
}
