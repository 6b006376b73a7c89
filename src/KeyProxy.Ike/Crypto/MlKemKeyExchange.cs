using System.Security.Cryptography;
using KeyProxy.Primitives;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Kems;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// ML-KEM (FIPS 203) as an IKEv2 key exchange method (draft-ietf-ipsecme-ikev2-mlkem, RFC 9370): the initiator's KE data
/// is its encapsulation key, the responder's the ciphertext it encapsulated to that key, and the shared secret is ML-KEM's
/// 32-byte K. Which side this object plays is decided by what is asked first: <see cref="PublicKey"/> before
/// <see cref="DeriveSharedSecret"/> makes it the initiator (a key pair, then decapsulation); <see cref="DeriveSharedSecret"/>
/// first makes it the responder (encapsulation), after which <see cref="PublicKey"/> is the ciphertext. That is the
/// order in which the engine already uses a Diffie-Hellman pair on either side. BouncyCastle's implementation.
/// </summary>
public sealed class MlKemKeyExchange : IKeyExchange
{
    private readonly MlKemParameterSet _set;
    private readonly SecureRandom _random;
    private MLKemPrivateKeyParameters? _decapsulationKey;
    private byte[]? _publicValue;
    private bool _derived;

    internal MlKemKeyExchange(DhGroup group, SecureRandom random)
    {
        _set = MlKemParameterSet.For(group);
        Group = group;
        _random = random;
    }

    public DhGroup Group { get; }

    public ReadOnlySpan<byte> PublicKey
    {
        get
        {
            if (_publicValue is null)
            {
                // Initiator: FIPS 203 ML-KEM.KeyGen.
                var generator = new MLKemKeyPairGenerator();
                generator.Init(new MLKemKeyGenerationParameters(_random, _set.Parameters));
                var pair = generator.GenerateKeyPair();
                _decapsulationKey = (MLKemPrivateKeyParameters)pair.Private;
                _publicValue = ((MLKemPublicKeyParameters)pair.Public).GetEncoded();
            }
            return _publicValue;
        }
    }

    public byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey)
    {
        if (_derived) throw new InvalidOperationException("an ML-KEM key exchange derives one secret");
        _derived = true;
        var secret = new byte[MlKemParameterSet.SharedSecretLength];
        if (_decapsulationKey is null)
        {
            // Responder: the peer's value is an encapsulation key; FIPS 203 7.2 input checks (length, and every
            // coefficient below q, which decoding then re-encoding the key proves).
            if (peerPublicKey.Length != _set.EncapsulationKeyLength)
                throw new InvalidKeyExchangeException(Group, $"encapsulation key is {peerPublicKey.Length} bytes, expected {_set.EncapsulationKeyLength}");
            var key = peerPublicKey.ToArray();
            MLKemPublicKeyParameters encapsulationKey;
            try { encapsulationKey = MLKemPublicKeyParameters.FromEncoding(_set.Parameters, key); }
            catch (ArgumentException e) { throw new InvalidKeyExchangeException(Group, "encapsulation key does not decode: " + e.Message); }
            if (!CryptographicOperations.FixedTimeEquals(encapsulationKey.GetEncoded(), key))
                throw new InvalidKeyExchangeException(Group, "encapsulation key fails the modulus check (FIPS 203 7.2)");
            var encapsulator = new MLKemEncapsulator(_set.Parameters);
            encapsulator.Init(new ParametersWithRandom(encapsulationKey, _random));
            _publicValue = new byte[_set.CiphertextLength];
            encapsulator.Encapsulate(_publicValue, secret);
            return secret;
        }
        // Initiator: the peer's value is the ciphertext; a wrong one decapsulates to an unrelated secret (implicit
        // rejection, FIPS 203 6.3) and IKE_AUTH fails, as with a wrong DH value.
        if (peerPublicKey.Length != _set.CiphertextLength)
            throw new InvalidKeyExchangeException(Group, $"ciphertext is {peerPublicKey.Length} bytes, expected {_set.CiphertextLength}");
        var decapsulator = new MLKemDecapsulator(_set.Parameters);
        decapsulator.Init(_decapsulationKey);
        decapsulator.Decapsulate(peerPublicKey, secret);
        return secret;
    }

    public void Dispose()
    {
        _decapsulationKey = null;
        _publicValue = null;
    }
}
