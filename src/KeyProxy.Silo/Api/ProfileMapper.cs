using KeyProxy.Abstractions;

namespace KeyProxy.Silo.Api;

/// <summary>Turns API bodies into profiles (collecting every error) and summaries into API views.</summary>
public static class ProfileMapper
{
    /// <summary>
    /// The profile for <paramref name="nai"/> described by <paramref name="dto"/>, and every error: decoding errors
    /// first, then the validator's (without repeating a field that already failed to decode).
    /// </summary>
    public static (SubscriberProfile Profile, IReadOnlyList<string> Errors) ToProfile(string nai, SubscriberProfileDto dto)
    {
        var errors = new List<string>();
        var failed = new HashSet<string>(StringComparer.Ordinal);

        void Fail(string field, string message)
        {
            errors.Add($"{field}: {message}");
            failed.Add(field);
        }

        if (dto.Nai is not null && dto.Nai != nai)
        {
            Fail("nai", $"'{dto.Nai}' differs from the NAI in the URL '{nai}'");
        }

        if (!BinaryText.TryDecode(dto.Secret, out var secret, out var secretError))
        {
            Fail("secret", secretError);
        }

        var conditions = new List<ProxyCondition>();
        for (var i = 0; i < (dto.Conditions?.Count ?? 0); i++)
        {
            var field = $"conditions[{i}]";
            if (dto.Conditions![i] is not { } c)
            {
                Fail(field, "missing");
                conditions.Add(ProxyCondition.AnyTraffic("0.0.0.0/0")); // keeps later indices aligned with the body
                continue;
            }

            var roles = ProxyRoles.None;
            var rolesOk = true;
            if (c.Roles is null || c.Roles.Count == 0)
            {
                Fail($"{field}.roles", "no role; allow \"initiator\", \"responder\" or both");
                rolesOk = false;
            }
            else
            {
                for (var r = 0; r < c.Roles.Count; r++)
                {
                    switch (c.Roles[r]?.ToLowerInvariant())
                    {
                        case "initiator": roles |= ProxyRoles.Initiator; break;
                        case "responder": roles |= ProxyRoles.Responder; break;
                        default:
                            Fail($"{field}.roles", $"unknown role '{c.Roles[r]}' at [{r}]; expected \"initiator\" or \"responder\"");
                            rolesOk = false;
                            break;
                    }
                }
            }

            conditions.Add(new ProxyCondition(c.PeerPrefix ?? "", c.Protocol, c.StartPort, c.EndPort,
                rolesOk ? roles : ProxyRoles.Initiator, c.PeerIdentity));
        }

        var psks = new List<PeerPsk>();
        for (var i = 0; i < (dto.PreSharedKeys?.Count ?? 0); i++)
        {
            var field = $"preSharedKeys[{i}]";
            if (dto.PreSharedKeys![i] is not { } p)
            {
                Fail(field, "missing");
                psks.Add(new PeerPsk("0.0.0.0/0", null, new byte[SubscriberProfileValidator.MinPskLength])); // keeps indices aligned
                continue;
            }

            if (!BinaryText.TryDecode(p.Key, out var key, out var keyError))
            {
                Fail($"{field}.key", keyError);
                key = new byte[SubscriberProfileValidator.MinPskLength];
            }

            psks.Add(new PeerPsk(p.PeerPrefix ?? "", p.PeerIdentity, key));
        }

        IkeCertificateCredential? certificate = null;
        if (dto.Certificate is { } cert)
        {
            if (cert.CertificatePem is null)
            {
                Fail("certificate.certificatePem", "missing");
            }

            if (cert.PrivateKeyPem is null)
            {
                Fail("certificate.privateKeyPem", "missing");
            }

            certificate = new IkeCertificateCredential(cert.CertificatePem ?? "", cert.PrivateKeyPem ?? "");
        }

        var profile = new SubscriberProfile
        {
            Nai = nai,
            Msisdn = dto.Msisdn,
            Secret = secret,
            ProxyService = dto.ProxyService,
            Conditions = conditions,
            IkeIdentity = dto.IkeIdentity ?? "",
            PreSharedKeys = psks,
            Certificate = certificate,
            TrustedCaPems = [.. (dto.TrustedCaPems ?? []).Select(p => p ?? "")],
            IkeProposals = dto.IkeProposals is null ? [SubscriberProfile.DefaultIkeProposal] : [.. dto.IkeProposals.Select(p => p ?? "")],
            EspProposals = dto.EspProposals is null ? [SubscriberProfile.DefaultEspProposal] : [.. dto.EspProposals.Select(p => p ?? "")],
        };

        foreach (var error in SubscriberProfileValidator.Validate(profile))
        {
            if (!failed.Any(f => error.StartsWith(f + ":", StringComparison.Ordinal) || error.StartsWith(f + ".", StringComparison.Ordinal)))
            {
                errors.Add(error);
            }
        }

        return (profile, errors);
    }

    public static SubscriberSummaryDto ToDto(SubscriberSummary summary) => new(
        summary.Nai,
        summary.Msisdn,
        summary.ProxyService,
        [.. summary.Conditions.Select(c => new ProxyConditionView(c.PeerPrefix, c.Protocol, c.StartPort, c.EndPort, RoleNames(c.Roles), c.PeerIdentity))],
        summary.IkeIdentity,
        [.. summary.PreSharedKeyPeers.Select(p => new PskPeerView(p.PeerPrefix, p.PeerIdentity))],
        summary.HasCertificate,
        summary.TrustedCaCount,
        summary.IkeProposals,
        summary.EspProposals,
        summary.Version,
        summary.Attachment is { } a ? new AttachmentDto(a.EdgeId, a.HandsetAddress, a.TunnelId, a.Since) : null);

    public static SessionDto ToDto(ProxySessionInfo session) => new(
        session.SessionId, session.Nai, string.Join(",", RoleNames(session.Role)), session.PeerAddress, session.EdgeId, session.IkeSpis, session.Since,
        session.IkeState, session.IkeSuite, session.Established,
        [.. (session.ChildSas ?? []).Select(c => new ChildSaDto($"{c.InboundSpi:x8}", $"{c.OutboundSpi:x8}", c.Suite, c.Mode, c.Established))]);

    public static IReadOnlyList<string> RoleNames(ProxyRoles roles)
    {
        var names = new List<string>(2);
        if ((roles & ProxyRoles.Initiator) != 0)
        {
            names.Add("initiator");
        }

        if ((roles & ProxyRoles.Responder) != 0)
        {
            names.Add("responder");
        }

        return names;
    }
}
