using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// What a side proves its identity with in IKE_AUTH (RFC 7296 2.15): a pre-shared key or a
/// certificate with its private key. Credentials never print key material.
/// </summary>
public abstract class IkeCredential
{
    private protected IkeCredential()
    {
    }

    /// <summary>The AUTH method this credential produces.</summary>
    public abstract AuthMethod Method { get; }
}
