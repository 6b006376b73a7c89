using System.Globalization;
using System.Text.RegularExpressions;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// Keys of one IKE SA in the shape of Wireshark's <c>ikev2_decryption_table</c> UAT:
/// SPIs, SK_ei/SK_er (for AES-GCM including the 4-byte salt), SK_ai/SK_ar (empty for AEAD) and
/// Wireshark's names of the algorithms.
/// </summary>
public sealed record IkeSaKeys(
    ulong InitiatorSpi,
    ulong ResponderSpi,
    byte[] SkEi,
    byte[] SkEr,
    string WiresharkEncryption,
    byte[] SkAi,
    byte[] SkAr,
    string WiresharkIntegrity)
{
    /// <summary>
    /// Builds keys from IANA-ish names as charon prints them: <paramref name="encryption"/> like
    /// AES_GCM_16, AES_CBC; <paramref name="integrity"/> like HMAC_SHA2_256_128 or null for AEAD.
    /// </summary>
    public static IkeSaKeys Create(ulong spiI, ulong spiR, string encryption, int keyBits, byte[] skEi, byte[] skEr,
        string? integrity = null, byte[]? skAi = null, byte[]? skAr = null) =>
        new(spiI, spiR, skEi, skEr,
            WiresharkEncryptionName(encryption, keyBits) ?? throw new NotSupportedException($"no Wireshark name for {encryption}-{keyBits}"),
            skAi ?? [], skAr ?? [],
            WiresharkIntegrityName(integrity) ?? throw new NotSupportedException($"no Wireshark name for {integrity}"));

    /// <summary>
    /// One row for <c>-o uat:ikev2_decryption_table:ROW</c>: byte fields as bare hex, algorithm
    /// names quoted (Wireshark's UAT syntax; quoted hex is rejected as a wrong length).
    /// </summary>
    public string ToUatRow() =>
        string.Join(',',
            InitiatorSpi.ToString("x16", CultureInfo.InvariantCulture), ResponderSpi.ToString("x16", CultureInfo.InvariantCulture),
            Convert.ToHexStringLower(SkEi), Convert.ToHexStringLower(SkEr), "\"" + WiresharkEncryption + "\"",
            Convert.ToHexStringLower(SkAi), Convert.ToHexStringLower(SkAr), "\"" + WiresharkIntegrity + "\"");

    /// <summary>charon's encryption algorithm (AES_GCM_16, AES_CBC, ...) and key size to Wireshark's UAT name.</summary>
    public static string? WiresharkEncryptionName(string charonName, int keyBits)
    {
        var m = Regex.Match(charonName, @"^AES_GCM_(8|12|16)$");
        if (m.Success) return $"AES-GCM-{keyBits} with {m.Groups[1].Value} octet ICV [RFC5282]";
        return charonName switch
        {
            "AES_CBC" => $"AES-CBC-{keyBits} [RFC3602]",
            "AES_CTR" => $"AES-CTR-{keyBits} [RFC5930]",
            "3DES_CBC" or "3DES" => "3DES [RFC2451]",
            "NULL" => "NULL [RFC2410]",
            _ => null,
        };
    }

    /// <summary>charon's integrity algorithm (HMAC_SHA2_256_128, ...) to Wireshark's UAT name; null/empty means none (AEAD).</summary>
    public static string? WiresharkIntegrityName(string? charonName) => charonName switch
    {
        null or "" or "NONE" => "NONE [RFC4306]",
        "HMAC_SHA2_256_128" or "HMAC_SHA2_384_192" or "HMAC_SHA2_512_256" => charonName + " [RFC4868]",
        "HMAC_SHA1_96" => "HMAC_SHA1_96 [RFC2404]",
        "HMAC_MD5_96" => "HMAC_MD5_96 [RFC2403]",
        _ => null,
    };
}

/// <summary>
/// Extracts IKE SA keys from a charon file log written with <c>ike = 4</c> and <c>ike_name = yes</c>.
/// </summary>
/// <remarks>
/// At level 4 charon dumps SKEYSEED and Sk_d, Sk_ai, Sk_ar, Sk_ei, Sk_er, Sk_pi, Sk_pr as hex
/// dumps, but not the SPIs. For an IKE SA made by IKE_SA_INIT the SPIs are the first 16 bytes of
/// the last "natd_chunk" dump of the same thread (NAT-D hashes SPIi | SPIr | IP | port). For an
/// IKE SA made by rekeying, the same thread next logs "IKE_SA name[N] state change: ... =>
/// ESTABLISHED"; its SPIs come from a list-sas result for unique id N. The algorithms come from
/// the thread's last "selected proposal: IKE:..." line.
/// </remarks>
public static partial class CharonKeyLog
{
    [GeneratedRegex(@"^\S+ (?<thread>\d+)\[(?<group>\w+)\] (?:<(?:[^>|]*\|)?(?<sa>\d+)> )?(?<msg>.*)$")]
    private static partial Regex LineRegex();

    [GeneratedRegex(@"^(?<name>Sk_\w+|natd_chunk) (?:secret )?=> (?<len>\d+) bytes")]
    private static partial Regex DumpStartRegex();

    [GeneratedRegex(@"^\s*(?<off>\d+): (?<hex>(?:[0-9A-F]{2} ?)+)")]
    private static partial Regex DumpLineRegex();

    [GeneratedRegex(@"selected proposal: IKE:(?<p>\S+)")]
    private static partial Regex ProposalRegex();

    [GeneratedRegex(@"IKE_SA \S*\[(?<id>\d+)\] state change: \S+ => ESTABLISHED")]
    private static partial Regex EstablishedRegex();

    private sealed class ThreadState
    {
        public string? DumpName;
        public int DumpLength;
        public List<byte> Dump = [];
        public (ulong I, ulong R)? NatdSpis;
        public string? Proposal;
        public Dictionary<string, byte[]> Keys = [];

    }

    private sealed record PendingKeys(Dictionary<string, byte[]> Keys, string? Proposal);

    public static IReadOnlyList<IkeSaKeys> Parse(string logText, IReadOnlyDictionary<uint, IkeSa>? knownSas = null)
    {
        var result = new List<IkeSaKeys>();
        var threads = new Dictionary<string, ThreadState>();
        // Key sets whose SPIs were not known when they were derived, by the IKE SA's unique id in charon's log prefix,
        // oldest first: RFC 9370 derives one per IKE_INTERMEDIATE, and charon may do each on another thread.
        var awaitingId = new Dictionary<uint, List<PendingKeys>>();
        foreach (var rawLine in logText.Split('\n'))
        {
            var line = LineRegex().Match(rawLine.TrimEnd('\r'));
            if (!line.Success) continue;
            var t = line.Groups["thread"].Value;
            if (!threads.TryGetValue(t, out var st)) threads[t] = st = new ThreadState();
            var msg = line.Groups["msg"].Value;
            uint? saId = line.Groups["sa"].Success ? uint.Parse(line.Groups["sa"].Value, CultureInfo.InvariantCulture) : null;

            if (st.DumpName is not null)
            {
                var dl = DumpLineRegex().Match(msg);
                if (dl.Success)
                {
                    foreach (var h in dl.Groups["hex"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                        st.Dump.Add(byte.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    if (st.Dump.Count >= st.DumpLength) FinishDump(st, result, awaitingId, saId);
                    continue;
                }
                FinishDump(st, result, awaitingId, saId);
            }

            var ds = DumpStartRegex().Match(msg);
            if (ds.Success)
            {
                st.DumpName = ds.Groups["name"].Value;
                st.DumpLength = int.Parse(ds.Groups["len"].Value, CultureInfo.InvariantCulture);
                st.Dump = [];
                continue;
            }
            if (msg.Contains("CREATE_CHILD_SA", StringComparison.Ordinal)) st.NatdSpis = null;
            var pm = ProposalRegex().Match(msg);
            if (pm.Success) { st.Proposal = pm.Groups["p"].Value; continue; }
            var em = EstablishedRegex().Match(msg);
            if (em.Success && awaitingId.Remove(uint.Parse(em.Groups["id"].Value, CultureInfo.InvariantCulture), out var pending))
            {
                uint id = uint.Parse(em.Groups["id"].Value, CultureInfo.InvariantCulture);
                if (knownSas is not null && knownSas.TryGetValue(id, out var sa))
                    foreach (var generation in pending)
                        Emit(result, sa.InitiatorSpi, sa.ResponderSpi, generation.Keys, generation.Proposal, sa);
            }
        }
        return result;
    }

    private static void FinishDump(ThreadState st, List<IkeSaKeys> result, Dictionary<uint, List<PendingKeys>> awaitingId, uint? saId)
    {
        var name = st.DumpName!;
        var bytes = st.Dump.ToArray();
        st.DumpName = null;
        if (name == "natd_chunk")
        {
            if (bytes.Length >= 16)
            {
                ulong i = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
                ulong r = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(8));
                st.NatdSpis = r != 0 ? (i, r) : null;
            }
            return;
        }
        st.Keys[name] = bytes;
        if (name != "Sk_pr") return;
        var keys = st.Keys;
        st.Keys = [];
        if (st.NatdSpis is { } spis)
        {
            st.NatdSpis = null;
            Emit(result, spis.I, spis.R, keys, st.Proposal, null);
        }
        else
        {
            if (saId is { } id)
            {
                if (!awaitingId.TryGetValue(id, out var list)) awaitingId[id] = list = [];
                list.Add(new PendingKeys(keys, st.Proposal));
            }
        }
    }

    private static void Emit(List<IkeSaKeys> result, ulong spiI, ulong spiR, Dictionary<string, byte[]> keys, string? proposal, IkeSa? sa)
    {
        string? encr = null, integ = null;
        int bits = 0;
        if (proposal is not null)
        {
            foreach (var part in proposal.Split('/'))
            {
                var m = Regex.Match(part, @"^(?<alg>AES_GCM_(?:8|12|16)|AES_CBC|AES_CTR|3DES_CBC)(?:_(?<bits>\d+))?$");
                if (m.Success)
                {
                    encr = m.Groups["alg"].Value;
                    bits = m.Groups["bits"].Success ? int.Parse(m.Groups["bits"].Value, CultureInfo.InvariantCulture) : 0;
                }
                else if (part.StartsWith("HMAC_", StringComparison.Ordinal)) integ = part;
            }
        }
        else if (sa is not null)
        {
            encr = sa.EncryptionAlgorithm;
            bits = sa.EncryptionKeySize ?? 0;
            integ = sa.IntegrityAlgorithm;
        }
        if (encr is null || !keys.TryGetValue("Sk_ei", out var ei) || !keys.TryGetValue("Sk_er", out var er)) return;
        var wsEncr = IkeSaKeys.WiresharkEncryptionName(encr, bits);
        var wsInteg = IkeSaKeys.WiresharkIntegrityName(integ);
        if (wsEncr is null || wsInteg is null) return;
        result.Add(new IkeSaKeys(spiI, spiR, ei, er, wsEncr,
            keys.GetValueOrDefault("Sk_ai") ?? [], keys.GetValueOrDefault("Sk_ar") ?? [], wsInteg));
    }
}
