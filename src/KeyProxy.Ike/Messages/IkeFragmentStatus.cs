namespace KeyProxy.Ike.Messages;

/// <summary>Outcome of <see cref="IkeFragmentReassembler.Add"/>.</summary>
public enum IkeFragmentStatus : byte
{
    /// <summary>The fragment verified and was kept; more are needed.</summary>
    Incomplete,

    /// <summary>All fragments are in; the inner payloads are returned.</summary>
    Complete,

    /// <summary>Duplicate, or a fragment with a smaller Total Fragments than the reassembly in progress (RFC 7383 2.6). No state change.</summary>
    Ignored,

    /// <summary>Not verified, malformed, over a limit, or the reassembled chain failed to decode. See the error.</summary>
    Rejected,
}
