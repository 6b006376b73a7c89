using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KeyProxy.Ike.Crypto.OpenSsl;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// Diffie-Hellman through OpenSSL 3's libcrypto (EVP_PKEY keygen and derive) by direct P/Invoke:
/// groups 14 (OpenSSL named group modp_2048, RFC 3526), 19/20 (P-256/P-384, RFC 5903) and
/// 31 (X25519, RFC 8031). Thread-safe: each thread keeps its own keygen context per group
/// (an EVP_PKEY_CTX must not be shared between threads); key pairs own an EVP_PKEY through a
/// SafeHandle freed by Dispose. Disposing the provider frees the cached keygen contexts.
/// </summary>
public sealed class OpenSslKeyExchangeProvider : IKeyExchangeProvider, IDisposable
{
    private readonly ThreadLocal<KeygenContexts> _keygen = new(() => new KeygenContexts(), trackAllValues: true);
    private int _disposed;

    /// <summary>True when libcrypto.so.3 (OpenSSL 3.x) can be loaded on this machine.</summary>
    public static bool IsAvailable => LibCrypto.IsAvailable;

    public string Name => "openssl";

    public bool Supports(DhGroup group) => DhGroupInfo.IsSupported(group) && IsAvailable;

    public IKeyExchange Create(DhGroup group)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!Supports(group))
        {
            throw new NotSupportedException($"{Name} does not support DH group {group}");
        }

        var ctx = _keygen.Value!.Get(group);
        if (LibCrypto.EVP_PKEY_generate(ctx, out var key) != 1 || key.IsInvalid)
        {
            key.Dispose();
            throw OpenSslError($"EVP_PKEY_generate failed for {group}");
        }

        return new OpenSslKeyExchange(group, key);
    }

    /// <summary>
    /// Imports a fixed key pair (known-answer tests). EC: private scalar big-endian and public x||y;
    /// MODP: private exponent and public value big-endian; X25519: the 32-byte private key (public ignored).
    /// </summary>
    internal IKeyExchange CreateFromPrivateKey(DhGroup group, ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey)
    {
        if (!Supports(group))
        {
            throw new NotSupportedException($"{Name} does not support DH group {group}");
        }

        EvpPkeyHandle key;
        if (group == DhGroup.Curve25519)
        {
            key = LibCrypto.EVP_PKEY_new_raw_private_key(LibCrypto.NidX25519, IntPtr.Zero, ref MemoryMarshal.GetReference(privateKey), (nuint)privateKey.Length);
        }
        else
        {
            key = ImportKeyPair(group, privateKey, publicKey);
        }

        if (key.IsInvalid)
        {
            key.Dispose();
            throw OpenSslError($"importing a {group} private key failed");
        }

        return new OpenSslKeyExchange(group, key);
    }

    private static EvpPkeyHandle ImportKeyPair(DhGroup group, ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey)
    {
        // Everything the builder points to lives in native memory until after OSSL_PARAM_BLD_to_param.
        var native = new List<IntPtr>();
        IntPtr Utf8(string s)
        {
            var p = Marshal.StringToCoTaskMemUTF8(s);
            native.Add(p);
            return p;
        }

        IntPtr Copy(ReadOnlySpan<byte> bytes)
        {
            var p = Marshal.AllocCoTaskMem(bytes.Length);
            native.Add(p);
            Marshal.Copy(bytes.ToArray(), 0, p, bytes.Length);
            return p;
        }

        var bld = LibCrypto.OSSL_PARAM_BLD_new();
        var priv = IntPtr.Zero;
        var pubBn = IntPtr.Zero;
        var param = IntPtr.Zero;
        try
        {
            priv = LibCrypto.BN_bin2bn(ref MemoryMarshal.GetReference(privateKey), privateKey.Length, IntPtr.Zero);
            var ok = bld != IntPtr.Zero && priv != IntPtr.Zero
                && LibCrypto.OSSL_PARAM_BLD_push_utf8_string(bld, Utf8("group"), Utf8(GroupName(group)), 0) == 1
                && LibCrypto.OSSL_PARAM_BLD_push_BN(bld, Utf8("priv"), priv) == 1;
            if (group == DhGroup.Modp2048)
            {
                pubBn = LibCrypto.BN_bin2bn(ref MemoryMarshal.GetReference(publicKey), publicKey.Length, IntPtr.Zero);
                ok = ok && LibCrypto.OSSL_PARAM_BLD_push_BN(bld, Utf8("pub"), pubBn) == 1;
            }
            else
            {
                byte[] encoded = [0x04, .. publicKey];
                ok = ok && LibCrypto.OSSL_PARAM_BLD_push_octet_string(bld, Utf8("pub"), Copy(encoded), (nuint)encoded.Length) == 1;
            }

            param = ok ? LibCrypto.OSSL_PARAM_BLD_to_param(bld) : IntPtr.Zero;
            using var ctx = LibCrypto.EVP_PKEY_CTX_new_from_name(IntPtr.Zero, KeyType(group), IntPtr.Zero);
            if (param == IntPtr.Zero || ctx.IsInvalid || LibCrypto.EVP_PKEY_fromdata_init(ctx) != 1
                || LibCrypto.EVP_PKEY_fromdata(ctx, out var key, LibCrypto.EvpPkeyKeypair, param) != 1)
            {
                throw OpenSslError($"EVP_PKEY_fromdata failed for {group}");
            }

            return key;
        }
        finally
        {
            LibCrypto.OSSL_PARAM_free(param);
            LibCrypto.BN_clear_free(priv);
            LibCrypto.BN_clear_free(pubBn);
            LibCrypto.OSSL_PARAM_BLD_free(bld);
            native.ForEach(Marshal.FreeCoTaskMem);
        }
    }


    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var contexts in _keygen.Values)
        {
            contexts.Dispose();
        }

        _keygen.Dispose();
    }

    internal static string KeyType(DhGroup group) => group switch
    {
        DhGroup.Modp2048 => "DH",
        DhGroup.Ecp256 or DhGroup.Ecp384 => "EC",
        DhGroup.Curve25519 => "X25519",
        _ => throw new NotSupportedException($"DH group {group} is not supported"),
    };

    internal static string GroupName(DhGroup group) => group switch
    {
        DhGroup.Modp2048 => "modp_2048", // RFC 3526 group 14 (not ffdhe2048 of RFC 7919)
        DhGroup.Ecp256 => "P-256",
        DhGroup.Ecp384 => "P-384",
        _ => throw new NotSupportedException($"DH group {group} has no OpenSSL group name"),
    };

    internal static Exception OpenSslError(string what)
    {
        // Leave libcrypto's per-thread error queue empty: .NET's own OpenSSL shim shares it.
        var detail = LibCrypto.TakeErrors();
        return new InvalidOperationException(detail.Length == 0 ? $"OpenSSL: {what}" : $"OpenSSL: {what}: {detail}");
    }

    /// <summary>One thread's keygen contexts, indexed by group; created on first use.</summary>
    private sealed class KeygenContexts : IDisposable
    {
        private readonly EvpPkeyCtxHandle?[] _contexts = new EvpPkeyCtxHandle?[4];

        public EvpPkeyCtxHandle Get(DhGroup group)
        {
            var index = group switch
            {
                DhGroup.Modp2048 => 0,
                DhGroup.Ecp256 => 1,
                DhGroup.Ecp384 => 2,
                _ => 3,
            };
            return _contexts[index] ??= CreateKeygenContext(group);
        }

        private static EvpPkeyCtxHandle CreateKeygenContext(DhGroup group)
        {
            var ctx = LibCrypto.EVP_PKEY_CTX_new_from_name(IntPtr.Zero, KeyType(group), IntPtr.Zero);
            if (ctx.IsInvalid || LibCrypto.EVP_PKEY_keygen_init(ctx) != 1
                || (group != DhGroup.Curve25519 && LibCrypto.EVP_PKEY_CTX_set_group_name(ctx, GroupName(group)) != 1))
            {
                ctx.Dispose();
                throw OpenSslError($"cannot set up key generation for {group}");
            }

            return ctx;
        }

        public void Dispose()
        {
            foreach (var ctx in _contexts)
            {
                ctx?.Dispose();
            }
        }
    }
}

/// <summary>An OpenSSL EVP_PKEY key pair for one exchange.</summary>
internal sealed class OpenSslKeyExchange : IKeyExchange
{
    /// <summary>OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY: EC uncompressed point, DH big-endian padded to the prime length.</summary>
    private static readonly IntPtr EncodedPublicKeyName = Marshal.StringToCoTaskMemUTF8("encoded-pub-key");

    private readonly EvpPkeyHandle _key;
    private readonly byte[] _publicKey;

    public OpenSslKeyExchange(DhGroup group, EvpPkeyHandle key)
    {
        Group = group;
        _key = key;
        try
        {
            _publicKey = ExportPublicKey(group, key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public DhGroup Group { get; }

    public ReadOnlySpan<byte> PublicKey => _publicKey;

    public byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey)
    {
        ObjectDisposedException.ThrowIf(_key.IsClosed, this);
        using var peer = ImportPeer(peerPublicKey);
        using var ctx = LibCrypto.EVP_PKEY_CTX_new_from_pkey(IntPtr.Zero, _key, IntPtr.Zero);
        if (ctx.IsInvalid || LibCrypto.EVP_PKEY_derive_init(ctx) != 1)
        {
            throw OpenSslKeyExchangeProvider.OpenSslError($"EVP_PKEY_derive_init failed for {Group}");
        }

        // validate_peer = 0: the peer value was already validated on import (EC: the point decoder
        // rejects points off the curve, and P-256/P-384 have cofactor 1, so any affine point on the
        // curve is in the prime-order group, SEC1 3.2.2.1; MODP: 1 < y < p-1 checked above, as RFC 7296
        // needs no subgroup check for ephemeral keys; X25519: all-zero output checked below).
        // OpenSSL 3.0's own check would add a full n*Q (EC) or y^q mod p (DH) exponentiation: it halves
        // P-256 throughput and cuts MODP-2048 derive to an eighth (measured with the dh benchmark).
        if (LibCrypto.EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) != 1)
        {
            LibCrypto.ERR_clear_error();
            throw new InvalidKeyExchangeException(Group, "peer public value rejected by OpenSSL");
        }

        var length = DhGroupInfo.SharedSecretLength(Group);
        var secret = new byte[length];
        var written = (nuint)length;
        if (LibCrypto.EVP_PKEY_derive(ctx, ref secret[0], ref written) != 1)
        {
            LibCrypto.ERR_clear_error();
            // X25519 derive fails on an all-zero output (small-order peer point, RFC 7748 6.1).
            throw new InvalidKeyExchangeException(Group, "key derivation failed");
        }

        if ((int)written != length)
        {
            // DH without padding returns the minimal big-endian encoding: left-pad (RFC 7296 2.14).
            var padded = Modp2048.PadToLength(secret.AsSpan(0, (int)written));
            CryptographicZero(secret);
            secret = padded;
        }

        if (Group == DhGroup.Curve25519)
        {
            DhGroupInfo.CheckNotAllZero(Group, secret);
        }

        return secret;
    }

    public void Dispose() => _key.Dispose();

    private EvpPkeyHandle ImportPeer(ReadOnlySpan<byte> peerPublicKey)
    {
        DhGroupInfo.CheckPeerLength(Group, peerPublicKey);
        EvpPkeyHandle peer;
        if (Group == DhGroup.Curve25519)
        {
            peer = LibCrypto.EVP_PKEY_new_raw_public_key(LibCrypto.NidX25519, IntPtr.Zero, ref MemoryMarshal.GetReference(peerPublicKey), 32);
            if (peer.IsInvalid)
            {
                peer.Dispose();
                throw OpenSslKeyExchangeProvider.OpenSslError("EVP_PKEY_new_raw_public_key failed");
            }

            return peer;
        }

        byte[]? encoded = null;
        if (Group == DhGroup.Modp2048)
        {
            Modp2048.ValidatePeerPublic(peerPublicKey);
        }
        else
        {
            // RFC 5903 7: KE data is x||y; OpenSSL takes the SEC1 uncompressed point 0x04||x||y.
            encoded = new byte[peerPublicKey.Length + 1];
            encoded[0] = 0x04;
            peerPublicKey.CopyTo(encoded.AsSpan(1));
        }

        peer = LibCrypto.EVP_PKEY_new();
        if (peer.IsInvalid || LibCrypto.EVP_PKEY_copy_parameters(peer, _key) != 1)
        {
            peer.Dispose();
            throw OpenSslKeyExchangeProvider.OpenSslError("cannot create the peer key");
        }

        // EC: decoding the point checks that it is on the curve (SEC1 2.3.4).
        var ok = encoded is null
            ? LibCrypto.EVP_PKEY_set1_encoded_public_key(peer, ref MemoryMarshal.GetReference(peerPublicKey), (nuint)peerPublicKey.Length)
            : LibCrypto.EVP_PKEY_set1_encoded_public_key(peer, ref encoded[0], (nuint)encoded.Length);
        if (ok != 1)
        {
            peer.Dispose();
            LibCrypto.ERR_clear_error();
            throw new InvalidKeyExchangeException(Group, Group == DhGroup.Modp2048 ? "public value rejected" : "point is not on the curve");
        }

        return peer;
    }

    private static byte[] ExportPublicKey(DhGroup group, EvpPkeyHandle key)
    {
        var length = DhGroupInfo.PublicKeyLength(group);
        if (group == DhGroup.Curve25519)
        {
            var raw = new byte[length];
            var rawLength = (nuint)length;
            if (LibCrypto.EVP_PKEY_get_raw_public_key(key, ref raw[0], ref rawLength) != 1 || (int)rawLength != length)
            {
                throw OpenSslKeyExchangeProvider.OpenSslError("EVP_PKEY_get_raw_public_key failed");
            }

            return raw;
        }

        var prefix = group == DhGroup.Modp2048 ? 0 : 1; // EC: 0x04 || x || y
        var buffer = new byte[length + prefix];
        if (LibCrypto.EVP_PKEY_get_octet_string_param(key, EncodedPublicKeyName, ref buffer[0], (nuint)buffer.Length, out var written) != 1
            || (int)written != buffer.Length || (prefix == 1 && buffer[0] != 0x04))
        {
            throw OpenSslKeyExchangeProvider.OpenSslError($"cannot export the {group} public key");
        }

        return prefix == 0 ? buffer : buffer.AsSpan(1).ToArray();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CryptographicZero(byte[] buffer) => System.Security.Cryptography.CryptographicOperations.ZeroMemory(buffer);
}
