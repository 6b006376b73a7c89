using System.Runtime.InteropServices;

namespace KeyProxy.Ike.Crypto.OpenSsl;

/// <summary>
/// The subset of OpenSSL 3 libcrypto (EVP_PKEY API, OpenSSL 3.0 man pages EVP_PKEY_derive(3),
/// EVP_PKEY_keygen(3), EVP_PKEY_fromdata(3), OSSL_PARAM_BLD(3)) used for Diffie-Hellman.
/// Plain DllImport with SafeHandle and byref parameters: no unsafe code needed.
/// Every function returning int returns 1 on success (0 or negative on failure).
/// </summary>
internal static class LibCrypto
{
    internal const string Library = "libcrypto.so.3";

    /// <summary>NID_X25519 (obj_mac.h).</summary>
    internal const int NidX25519 = 1034;

    /// <summary>EVP_PKEY_KEYPAIR selection for EVP_PKEY_fromdata (evp.h).</summary>
    internal const int EvpPkeyKeypair = 0x87;

    private static readonly Lazy<bool> s_available = new(Probe);

    /// <summary>True when libcrypto.so.3 loads and exports what is needed.</summary>
    internal static bool IsAvailable => s_available.Value;

    private static bool Probe()
    {
        try
        {
            if (!NativeLibrary.TryLoad(Library, typeof(LibCrypto).Assembly, null, out var handle))
            {
                return false;
            }

            return NativeLibrary.TryGetExport(handle, "EVP_PKEY_derive_set_peer_ex", out _)
                && NativeLibrary.TryGetExport(handle, "EVP_PKEY_CTX_set_group_name", out _);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            return false;
        }
    }

    // --- EVP_PKEY ---

    [DllImport(Library)]
    internal static extern EvpPkeyHandle EVP_PKEY_new();

    [DllImport(Library)]
    internal static extern void EVP_PKEY_free(IntPtr pkey);

    [DllImport(Library)]
    internal static extern int EVP_PKEY_copy_parameters(EvpPkeyHandle to, EvpPkeyHandle from);

    [DllImport(Library)]
    internal static extern int EVP_PKEY_set1_encoded_public_key(EvpPkeyHandle pkey, ref byte pub, nuint publen);

    [DllImport(Library)]
    internal static extern int EVP_PKEY_get_octet_string_param(
        EvpPkeyHandle pkey, IntPtr keyName, ref byte buf, nuint maxBufSize, out nuint outLen);

    [DllImport(Library)]
    internal static extern EvpPkeyHandle EVP_PKEY_new_raw_public_key(int type, IntPtr engine, ref byte key, nuint keylen);

    [DllImport(Library)]
    internal static extern EvpPkeyHandle EVP_PKEY_new_raw_private_key(int type, IntPtr engine, ref byte key, nuint keylen);

    [DllImport(Library)]
    internal static extern int EVP_PKEY_get_raw_public_key(EvpPkeyHandle pkey, ref byte pub, ref nuint len);

    // --- EVP_PKEY_CTX ---

    [DllImport(Library)]
    internal static extern EvpPkeyCtxHandle EVP_PKEY_CTX_new_from_name(
        IntPtr libctx, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, IntPtr propquery);

    [DllImport(Library)]
    internal static extern EvpPkeyCtxHandle EVP_PKEY_CTX_new_from_pkey(IntPtr libctx, EvpPkeyHandle pkey, IntPtr propquery);

    [DllImport(Library)]
    internal static extern void EVP_PKEY_CTX_free(IntPtr ctx);

    [DllImport(Library)]
    internal static extern int EVP_PKEY_keygen_init(EvpPkeyCtxHandle ctx);

    [DllImport(Library)]
    internal static extern int EVP_PKEY_CTX_set_group_name(EvpPkeyCtxHandle ctx, [MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport(Library)]
    internal static extern int EVP_PKEY_generate(EvpPkeyCtxHandle ctx, out EvpPkeyHandle pkey);

    [DllImport(Library)]
    internal static extern int EVP_PKEY_derive_init(EvpPkeyCtxHandle ctx);

    [DllImport(Library)]
    internal static extern int EVP_PKEY_derive_set_peer_ex(EvpPkeyCtxHandle ctx, EvpPkeyHandle peer, int validatePeer);

    [DllImport(Library)]
    internal static extern int EVP_PKEY_derive(EvpPkeyCtxHandle ctx, ref byte key, ref nuint keylen);

    [DllImport(Library)]
    internal static extern int EVP_PKEY_fromdata_init(EvpPkeyCtxHandle ctx);

    [DllImport(Library)]
    internal static extern int EVP_PKEY_fromdata(EvpPkeyCtxHandle ctx, out EvpPkeyHandle pkey, int selection, IntPtr param);

    // --- OSSL_PARAM_BLD and BIGNUM (only for importing fixed test keys) ---
    // OSSL_PARAM_BLD keeps the key and buffer pointers until OSSL_PARAM_BLD_to_param: they must be
    // native memory that outlives the builder, never marshalled temporaries.

    [DllImport(Library)]
    internal static extern IntPtr OSSL_PARAM_BLD_new();

    [DllImport(Library)]
    internal static extern void OSSL_PARAM_BLD_free(IntPtr bld);

    [DllImport(Library)]
    internal static extern int OSSL_PARAM_BLD_push_utf8_string(IntPtr bld, IntPtr key, IntPtr buf, nuint bsize);

    [DllImport(Library)]
    internal static extern int OSSL_PARAM_BLD_push_octet_string(IntPtr bld, IntPtr key, IntPtr buf, nuint bsize);

    [DllImport(Library)]
    internal static extern int OSSL_PARAM_BLD_push_BN(IntPtr bld, IntPtr key, IntPtr bn);

    [DllImport(Library)]
    internal static extern IntPtr OSSL_PARAM_BLD_to_param(IntPtr bld);

    [DllImport(Library)]
    internal static extern void OSSL_PARAM_free(IntPtr param);

    [DllImport(Library)]
    internal static extern IntPtr BN_bin2bn(ref byte s, int len, IntPtr ret);

    [DllImport(Library)]
    internal static extern void BN_clear_free(IntPtr bn);

    // --- errors ---

    [DllImport(Library)]
    internal static extern ulong ERR_get_error();

    [DllImport(Library)]
    internal static extern void ERR_error_string_n(ulong e, ref byte buf, nuint len);

    /// <summary>Pops the oldest queued error as text ("" when none) and clears the rest of the queue.</summary>
    internal static string TakeErrors()
    {
        var code = ERR_get_error();
        var text = string.Empty;
        if (code != 0)
        {
            var buffer = new byte[256];
            ERR_error_string_n(code, ref buffer[0], (nuint)buffer.Length);
            text = System.Text.Encoding.ASCII.GetString(buffer, 0, Math.Max(0, Array.IndexOf(buffer, (byte)0)));
        }

        ERR_clear_error();
        return text;
    }

    [DllImport(Library)]
    internal static extern void ERR_clear_error();
}

/// <summary>Owns an EVP_PKEY*; released with EVP_PKEY_free.</summary>
internal sealed class EvpPkeyHandle : SafeHandle
{
    public EvpPkeyHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        LibCrypto.EVP_PKEY_free(handle);
        return true;
    }
}

/// <summary>Owns an EVP_PKEY_CTX*; released with EVP_PKEY_CTX_free.</summary>
internal sealed class EvpPkeyCtxHandle : SafeHandle
{
    public EvpPkeyCtxHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        LibCrypto.EVP_PKEY_CTX_free(handle);
        return true;
    }
}
