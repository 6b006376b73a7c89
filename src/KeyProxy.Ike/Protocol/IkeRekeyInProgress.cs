using System.Security.Cryptography;
using KeyProxy.Ike.Crypto;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// An IKE SA rekey whose suite has additional key exchanges (RFC 9370 2.2.4), between its CREATE_CHILD_SA and its last
/// IKE_FOLLOWUP_KE: the new IKE SA as agreed so far, the secrets collected, the methods still to run and the link data
/// that ties the exchanges together. The new IKE SA's keys come only once every secret is in.
/// </summary>
internal sealed class IkeRekeyInProgress
{
    public required IkeSaState Fresh { get; init; }
    public required IkeSuite Suite { get; init; }
    public required byte[] FirstSecret { get; init; }
    public required Queue<DhGroup> Remaining { get; init; }

    /// <summary>The ADDITIONAL_KEY_EXCHANGE notify's data the next IKE_FOLLOWUP_KE request must carry.</summary>
    public required byte[] Link { get; set; }

    /// <summary>The initiator's key pair of the IKE_FOLLOWUP_KE in flight.</summary>
    public IKeyExchange? KeyExchange { get; set; }

    /// <summary>SK(1) | ... | SK(n) so far, in exchange order.</summary>
    public List<byte[]> AdditionalSecrets { get; } = [];

    public byte[] ConcatenatedAdditionalSecrets()
    {
        var all = new byte[AdditionalSecrets.Sum(s => s.Length)];
        int at = 0;
        foreach (var s in AdditionalSecrets)
        {
            s.CopyTo(all, at);
            at += s.Length;
        }
        return all;
    }

    public void Clear()
    {
        CryptographicOperations.ZeroMemory(FirstSecret);
        foreach (var s in AdditionalSecrets) CryptographicOperations.ZeroMemory(s);
        KeyExchange?.Dispose();
        KeyExchange = null;
    }
}
