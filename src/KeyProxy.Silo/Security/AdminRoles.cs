namespace KeyProxy.Silo.Security;

/// <summary>
/// The admin API's roles (issue 16 item 1), as the token's role claim (<see cref="AdminAuthOptions.RoleClaim"/>) names
/// them, and the authorization policies built on them: every GET of /api, the dashboard and /metrics need
/// <see cref="Read"/>; PUT, DELETE and POST need <see cref="Provision"/>. Provision does not imply read: an operator's
/// identity provider grants both to an operator and only read to a monitoring system.
/// </summary>
public static class AdminRoles
{
    public const string Read = "keyproxy.read";

    public const string Provision = "keyproxy.provision";

    /// <summary>Policy: an authenticated token with <see cref="Read"/>.</summary>
    public const string ReadPolicy = "keyproxy-read";

    /// <summary>Policy: an authenticated token with <see cref="Provision"/>.</summary>
    public const string ProvisionPolicy = "keyproxy-provision";

    /// <summary>The policy a request to /api needs by its method: reads for GET and HEAD, provisioning for anything else.</summary>
    public static string PolicyFor(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) ? ReadPolicy : ProvisionPolicy;
}
