using System.Diagnostics.Metrics;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// Subscriber rows read in a state the silo's secrets-at-rest setting does not write (meter "KeyProxy.Silo"):
/// <c>keyproxy.stored_secrets.unprotected_loads</c>, rows stored unprotected that a silo with encryption on loaded
/// (Development mode; their next write encrypts them), and <c>keyproxy.stored_secrets.refused_loads</c>, rows refused
/// by <see cref="SecretsAtRestOff"/> or <see cref="EnvelopeSecrets"/>, by bounded reason. Never a row's name or value.
/// </summary>
public static class StoredSecretMetrics
{
    private static readonly Meter Meter = new(Telemetry.AdminApiMetrics.MeterName);

    private static readonly Counter<long> UnprotectedLoads = Meter.CreateCounter<long>("keyproxy.stored_secrets.unprotected_loads", "{row}",
        "Subscriber rows found with their secrets stored unprotected and loaded by a silo that encrypts (Development mode); its next write encrypts them");

    private static readonly Counter<long> RefusedLoads = Meter.CreateCounter<long>("keyproxy.stored_secrets.refused_loads", "{row}",
        "Subscriber rows refused at load because of their secrets: encrypted while KeyProxy:SecretsAtRest:Enabled=false, unprotected in Production mode, or unreadable");

    public static void CountUnprotectedLoad() => UnprotectedLoads.Add(1);

    /// <summary><paramref name="reason"/>: <c>encrypted_while_off</c>, <c>unprotected_in_production</c> or <c>unreadable</c>.</summary>
    public static void CountRefusedLoad(string reason) => RefusedLoads.Add(1, new KeyValuePair<string, object?>("keyproxy_reason", reason));
}
