using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// Turns suites into SA payload proposals and picks the responder's choice (RFC 7296 2.7, 3.3).
/// A received proposal may offer several transforms of one type; the chosen one lists exactly one per type.
/// </summary>
public static class ProposalSelection
{
    public static SecurityAssociationPayload ToSaPayload(IReadOnlyList<IkeSuite> suites, ReadOnlyMemory<byte> spi)
    {
        var proposals = new List<Proposal>(suites.Count);
        for (var i = 0; i < suites.Count; i++)
            proposals.Add(ToProposal(suites[i], (byte)(i + 1), spi));
        return new SecurityAssociationPayload(proposals);
    }

    public static SecurityAssociationPayload ToSaPayload(IReadOnlyList<EspSuite> suites, uint spi, bool includeDh)
    {
        var proposals = new List<Proposal>(suites.Count);
        for (var i = 0; i < suites.Count; i++)
            proposals.Add(ToProposal(suites[i], (byte)(i + 1), spi, includeDh));
        return new SecurityAssociationPayload(proposals);
    }

    public static Proposal ToProposal(IkeSuite suite, byte number, ReadOnlyMemory<byte> spi)
    {
        var transforms = new List<Transform>(4)
        {
            new(TransformType.Encryption, (ushort)suite.Encryption, (ushort)suite.EncryptionKeyBits),
            new(TransformType.PseudoRandomFunction, (ushort)suite.Prf),
        };
        if (suite.Integrity != IntegrityAlgorithm.None)
            transforms.Add(new Transform(TransformType.Integrity, (ushort)suite.Integrity));
        transforms.Add(new Transform(TransformType.DiffieHellman, (ushort)suite.DhGroup));
        for (int slot = 1; slot <= AdditionalKeyExchanges.Slots; slot++)
            if (suite.AdditionalKeyExchanges[slot] is var method and not DhGroup.None)
                transforms.Add(new Transform(AdditionalType(slot), (ushort)method));
        return new Proposal(number, ProtocolId.Ike, spi, transforms);
    }

    public static Proposal ToProposal(EspSuite suite, byte number, uint spi, bool includeDh)
    {
        var transforms = new List<Transform>(4)
        {
            new(TransformType.Encryption, (ushort)suite.Encryption, (ushort)suite.EncryptionKeyBits),
        };
        if (suite.Integrity != IntegrityAlgorithm.None)
            transforms.Add(new Transform(TransformType.Integrity, (ushort)suite.Integrity));
        if (includeDh && suite.DhGroup != DhGroup.None)
            transforms.Add(new Transform(TransformType.DiffieHellman, (ushort)suite.DhGroup));
        transforms.Add(new Transform(TransformType.ExtendedSequenceNumbers, (ushort)suite.Esn));
        return new Proposal(number, ProtocolId.Esp, SpiBytes(spi), transforms);
    }

    /// <summary>The first peer proposal (in the peer's order) that contains one of our suites; null when none does.</summary>
    public static (IkeSuite Suite, Proposal Proposal)? SelectIke(SecurityAssociationPayload offered, IReadOnlyList<IkeSuite> ours)
    {
        // Indexed loops: foreach over the interfaces would box an enumerator per proposal and suite.
        var proposals = offered.Proposals;
        for (var i = 0; i < proposals.Count; i++)
        {
            var proposal = proposals[i];
            if (proposal.Protocol != ProtocolId.Ike) continue;
            for (var j = 0; j < ours.Count; j++)
                if (Offers(proposal, ours[j])) return (ours[j], proposal);
        }
        return null;
    }

    /// <summary>As <see cref="SelectIke"/> for ESP. With <paramref name="matchDh"/> false (IKE_AUTH) DH transforms are ignored.</summary>
    public static (EspSuite Suite, Proposal Proposal)? SelectEsp(SecurityAssociationPayload offered, IReadOnlyList<EspSuite> ours, bool matchDh)
    {
        var proposals = offered.Proposals;
        for (var i = 0; i < proposals.Count; i++)
        {
            var proposal = proposals[i];
            if (proposal.Protocol != ProtocolId.Esp || proposal.Spi.Length != 4) continue;
            for (var j = 0; j < ours.Count; j++)
                if (Offers(proposal, ours[j], matchDh)) return (ours[j], proposal);
        }
        return null;
    }

    /// <summary>The suite a responder's one-proposal answer names, if it is one of ours and lists exactly one transform per type.</summary>
    public static IkeSuite? AcceptedIke(SecurityAssociationPayload answer, IReadOnlyList<IkeSuite> ours)
    {
        if (answer.Proposals.Count != 1 || !HasOnePerType(answer.Proposals[0])) return null;
        var selected = SelectIke(answer, ours);
        return selected?.Suite;
    }

    public static EspSuite? AcceptedEsp(SecurityAssociationPayload answer, IReadOnlyList<EspSuite> ours, bool matchDh)
    {
        if (answer.Proposals.Count != 1 || !HasOnePerType(answer.Proposals[0])) return null;
        var selected = SelectEsp(answer, ours, matchDh);
        return selected?.Suite;
    }

    public static uint SpiOf(Proposal proposal) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(proposal.Spi.Span);

    public static byte[] SpiBytes(uint spi)
    {
        var bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, spi);
        return bytes;
    }

    private static bool Offers(Proposal p, IkeSuite s) =>
        Has(p, TransformType.Encryption, (ushort)s.Encryption, s.EncryptionKeyBits)
        && Has(p, TransformType.PseudoRandomFunction, (ushort)s.Prf, null)
        && (s.Integrity == IntegrityAlgorithm.None
            ? !HasAny(p, TransformType.Integrity, exceptNone: true)
            : Has(p, TransformType.Integrity, (ushort)s.Integrity, null))
        && Has(p, TransformType.DiffieHellman, (ushort)s.DhGroup, null)
        && OffersAdditional(p, s.AdditionalKeyExchanges);

    /// <summary>
    /// RFC 9370 2.2.2: each slot we use must be offered with our method; a slot we leave unused must be absent from the
    /// proposal or offered with NONE (id 0), which makes it optional.
    /// </summary>
    private static bool OffersAdditional(Proposal p, AdditionalKeyExchanges ours)
    {
        for (int slot = 1; slot <= AdditionalKeyExchanges.Slots; slot++)
        {
            var type = AdditionalType(slot);
            var ok = ours[slot] == DhGroup.None
                ? !HasAny(p, type, exceptNone: false) || Has(p, type, 0, null)
                : Has(p, type, (ushort)ours[slot], null);
            if (!ok) return false;
        }
        return true;
    }

    private static TransformType AdditionalType(int slot) => (TransformType)((int)TransformType.AdditionalKeyExchange1 + slot - 1);

    private static bool Offers(Proposal p, EspSuite s, bool matchDh)
    {
        if (!Has(p, TransformType.Encryption, (ushort)s.Encryption, s.EncryptionKeyBits)) return false;
        if (s.Integrity == IntegrityAlgorithm.None
                ? HasAny(p, TransformType.Integrity, exceptNone: true)
                : !Has(p, TransformType.Integrity, (ushort)s.Integrity, null))
            return false;
        if (matchDh)
        {
            var wantsDh = s.DhGroup != DhGroup.None;
            if (wantsDh ? !Has(p, TransformType.DiffieHellman, (ushort)s.DhGroup, null) : HasAny(p, TransformType.DiffieHellman, exceptNone: true))
                return false;
        }
        // RFC 7296 3.3.2: no ESN transform means "no ESN".
        return HasAny(p, TransformType.ExtendedSequenceNumbers, exceptNone: false)
            ? Has(p, TransformType.ExtendedSequenceNumbers, (ushort)s.Esn, null)
            : s.Esn == EsnMode.NoEsn;
    }

    private static bool Has(Proposal p, TransformType type, ushort id, int? keyBits)
    {
        var transforms = p.Transforms;
        for (var i = 0; i < transforms.Count; i++)
        {
            var t = transforms[i];
            if (t.Type == type && t.Id == id && !t.HasUnknownAttributes && (keyBits is null || t.KeyLength == keyBits))
                return true;
        }
        return false;
    }

    private static bool HasAny(Proposal p, TransformType type, bool exceptNone)
    {
        var transforms = p.Transforms;
        for (var i = 0; i < transforms.Count; i++)
            if (transforms[i].Type == type && (!exceptNone || transforms[i].Id != 0)) return true;
        return false;
    }

    private static bool HasOnePerType(Proposal p)
    {
        Span<int> counts = stackalloc int[(int)TransformType.AdditionalKeyExchange7 + 1];
        var transforms = p.Transforms;
        for (var i = 0; i < transforms.Count; i++)
        {
            var type = (int)transforms[i].Type;
            if (type is >= 1 and <= (int)TransformType.AdditionalKeyExchange7 && ++counts[type] > 1) return false;
        }
        return true;
    }
}
