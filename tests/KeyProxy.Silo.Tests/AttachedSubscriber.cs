using System.Security.Cryptography;
using KeyProxy.Abstractions;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;

namespace KeyProxy.Silo.Tests;

/// <summary>A subscriber provisioned with <see cref="TestProfiles.Valid"/> and attached with a correct proof, for grain-level tests.</summary>
internal static class AttachedSubscriber
{
    public static async Task<ISubscriberSessionGrain> AttachAsync(IGrainFactory grains, string nai, string edgeId, uint tunnelId, string handsetAddress, SiloAddress silo)
    {
        Assert.True((await grains.GetGrain<ISubscriberGrain>(nai).Provision(TestProfiles.Valid(nai))).Succeeded);
        var subscriber = grains.GetGrain<ISubscriberSessionGrain>(nai);
        var (handsetNonce, edgeNonce) = (RandomNumberGenerator.GetBytes(16), RandomNumberGenerator.GetBytes(16));
        var proof = AttachProofs.ComputeAttachProof(SubscriberKeys.DeriveAttachKey(TestProfiles.Secret), new SubscriberIdentity(IdentityType.Nai, nai),
            Nonce16.Read(handsetNonce), Nonce16.Read(edgeNonce));
        var outcome = await subscriber.Attach(new AttachAttempt(edgeId, handsetNonce, edgeNonce, proof, tunnelId, handsetAddress, silo));
        Assert.True(outcome.Accepted, outcome.Text);
        return subscriber;
    }
}
