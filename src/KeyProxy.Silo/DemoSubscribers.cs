using System.Text;
using KeyProxy.Abstractions;

namespace KeyProxy.Silo;

/// <summary>
/// The two handsets of the embedded default: alice@keyproxy.test and bob@keyproxy.test, entitled to the proxy service
/// for peers on 127.0.0.0/8 (any protocol, any port, both roles), authenticating with the pre-shared key
/// <see cref="Psk"/>. Their subscriber secrets are the UTF-8 text "keyproxy-demo-secret-alice" / "-bob" (for the
/// handset CLI). Demo values, published in the README: never for a real deployment.
/// </summary>
public static class DemoSubscribers
{
    public const string AliceNai = "alice@keyproxy.test";
    public const string BobNai = "bob@keyproxy.test";
    public const string Psk = "keyproxy-demo-psk";
    public const string PeerPrefix = "127.0.0.0/8";

    public static SubscriberProfile Alice { get; } = Create(AliceNai, "15550000001", "keyproxy-demo-secret-alice", "fqdn:alice.keyproxy.test");

    public static SubscriberProfile Bob { get; } = Create(BobNai, "15550000002", "keyproxy-demo-secret-bob", "fqdn:bob.keyproxy.test");

    public static IReadOnlyList<SubscriberProfile> All { get; } = [Alice, Bob];

    private static SubscriberProfile Create(string nai, string msisdn, string secret, string ikeIdentity) => new()
    {
        Nai = nai,
        Msisdn = msisdn,
        Secret = Encoding.UTF8.GetBytes(secret),
        ProxyService = true,
        Conditions = [ProxyCondition.AnyTraffic(PeerPrefix)],
        IkeIdentity = ikeIdentity,
        PreSharedKeys = [new PeerPsk(PeerPrefix, null, Encoding.UTF8.GetBytes(Psk))],
    };
}
