using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Crypto;

/// <summary>The DH providers under test, by name, and their fixed-key constructors.</summary>
internal static class TestProviders
{
    public static readonly OpenSslKeyExchangeProvider? OpenSsl = OpenSslKeyExchangeProvider.IsAvailable ? new() : null;
    public static readonly DotNetEcdhKeyExchangeProvider DotNet = new();
    public static readonly BouncyCastleKeyExchangeProvider BouncyCastle = new();

    public static readonly DhGroup[] Groups = [DhGroup.Modp2048, DhGroup.Ecp256, DhGroup.Ecp384, DhGroup.Curve25519];

    public static IEnumerable<IKeyExchangeProvider> All
    {
        get
        {
            if (OpenSsl is not null)
            {
                yield return OpenSsl;
            }

            yield return DotNet;
            yield return BouncyCastle;
            yield return DefaultKeyExchangeProvider.Instance;
        }
    }

    public static IKeyExchangeProvider Get(string name) => All.Single(p => p.Name == name);

    /// <summary>(provider, group) for every group each provider supports.</summary>
    public static TheoryData<string, DhGroup> ProviderGroups()
    {
        var data = new TheoryData<string, DhGroup>();
        foreach (var provider in All)
        {
            foreach (var group in Groups.Where(provider.Supports))
            {
                data.Add(provider.Name, group);
            }
        }

        return data;
    }

    /// <summary>(provider X, provider Y, group) for every ordered pair supporting the group.</summary>
    public static TheoryData<string, string, DhGroup> ProviderPairs()
    {
        var data = new TheoryData<string, string, DhGroup>();
        foreach (var group in Groups)
        {
            foreach (var x in All.Where(p => p.Supports(group)))
            {
                foreach (var y in All.Where(p => p.Supports(group)))
                {
                    data.Add(x.Name, y.Name, group);
                }
            }
        }

        return data;
    }

    /// <summary>
    /// A key pair with a fixed private key. <paramref name="publicKey"/> is the matching public value
    /// in KE encoding (needed by OpenSSL and .NET imports for EC and MODP; ignored for X25519).
    /// </summary>
    public static IKeyExchange FromPrivate(string name, DhGroup group, byte[] privateKey, byte[] publicKey)
    {
        var provider = Get(name);
        if (provider is DefaultKeyExchangeProvider d)
        {
            provider = d.ProviderFor(group);
        }

        return provider switch
        {
            OpenSslKeyExchangeProvider o => o.CreateFromPrivateKey(group, privateKey, publicKey),
            DotNetEcdhKeyExchangeProvider n => n.CreateFromPrivateKey(group, privateKey, publicKey),
            BouncyCastleKeyExchangeProvider b => b.CreateFromPrivateKey(group, privateKey),
            _ => throw new InvalidOperationException(name),
        };
    }
}
