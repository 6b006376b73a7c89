using KeyProxy.Silo;
using KeyProxy.Silo.Migration;
using KeyProxy.Silo.Storage;

// One-shot: subscriber profiles from the project's old Azure Table layout into the official provider's (README).
if (args is [LegacyProfileMigration.Command, ..])
{
    return await LegacyProfileMigration.RunAsync(args[1..], Console.Out);
}

// Secrets at rest: every subscriber row re-wrapped under the active key-encryption key (README, "Secrets at rest").
if (args is [StoredSecretRotation.Command, ..])
{
    return await StoredSecretRotation.RunAsync(args[1..], Console.Out);
}

// The KeyProxy silo: Orleans, dashboard and admin API. With no configuration: one localhost silo, in-memory storage,
// demo subscribers, http://127.0.0.1:8080/dashboard and /api.
try
{
    var app = KeyProxySiloHost.Build(args);
    await app.RunAsync();
    return 0;
}
catch (SiloConfigurationException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
catch (KeyProxy.Edge.Tun.TunException e)
{
    // KeyProxy:Edge:PacketPath=Tun without what it needs (CAP_NET_ADMIN, /dev/net/tun, a free pool prefix): said plainly.
    Console.Error.WriteLine($"KeyProxy silo could not start its edge: {e.Message}");
    return 1;
}
catch (IOException e)
{
    // Kestrel's "address already in use" and the like.
    Console.Error.WriteLine($"KeyProxy silo could not start: {e.Message}");
    return 1;
}
