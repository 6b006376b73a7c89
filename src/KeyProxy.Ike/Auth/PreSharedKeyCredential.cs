using System.Security.Cryptography;
using System.Text;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// A shared secret for AUTH method 2 (RFC 7296 2.15). The key is copied in; <see cref="Dispose"/>
/// wipes the copy. <see cref="ToString"/> never reveals it.
/// </summary>
public sealed class PreSharedKeyCredential : IkeCredential, IDisposable
{
    private readonly byte[] _key;
    private bool _disposed;

    public PreSharedKeyCredential(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0)
        {
            throw new ArgumentException("a pre-shared key must not be empty", nameof(key));
        }

        _key = key.ToArray();
    }

    /// <summary>A secret given as text (its UTF-8 octets), as strongSwan's <c>secret = "..."</c>.</summary>
    public static PreSharedKeyCredential FromUtf8(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        return new PreSharedKeyCredential(Encoding.UTF8.GetBytes(secret));
    }

    public override AuthMethod Method => AuthMethod.SharedKeyMessageIntegrityCode;

    internal ReadOnlySpan<byte> Key
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _key;
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            CryptographicOperations.ZeroMemory(_key);
            _disposed = true;
        }
    }

    public override string ToString() => "PreSharedKeyCredential(<redacted>)";
}
