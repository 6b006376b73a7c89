namespace KeyProxy.Ipsec.Esp;

/// <summary>Why a packet was dropped, for the per-SA counters (RFC 4303 3.4, RFC 4301 4.4.2).</summary>
public enum DropReason
{
    Replay,
    IntegrityFailure,
    Malformed,
    Expired,
    NoSa,
}
