using System.Globalization;
using KeyProxy.Primitives;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>An IKE SA as charon reports it (vici <c>list-sas</c>, one <c>list-sa</c> event each).</summary>
/// <param name="Name">Connection name from swanctl.conf.</param>
/// <param name="UniqueId">charon's unique id of this IKE SA (a rekeyed SA gets a new one).</param>
/// <param name="State">CREATED, CONNECTING, ESTABLISHED, PASSIVE, REKEYING, REKEYED, DELETING, DESTROYING.</param>
/// <param name="IsInitiator">Whether charon was the original initiator of this IKE SA.</param>
/// <param name="NatLocal">charon thinks it is behind a NAT.</param>
/// <param name="NatRemote">charon thinks the peer is behind a NAT (with kernel-libipsec always faked to yes).</param>
/// <param name="NatFake">charon fakes NAT detection (<c>encap = yes</c>).</param>
public sealed record IkeSa(
    string Name,
    uint UniqueId,
    string State,
    bool IsInitiator,
    ulong InitiatorSpi,
    ulong ResponderSpi,
    string LocalHost,
    int LocalPort,
    string? LocalId,
    string RemoteHost,
    int RemotePort,
    string? RemoteId,
    string? EncryptionAlgorithm,
    int? EncryptionKeySize,
    string? IntegrityAlgorithm,
    string? PrfAlgorithm,
    string? DhGroup,
    bool NatLocal,
    bool NatRemote,
    bool NatFake,
    IReadOnlyList<ChildSa> Children,
    ViciSection Raw)
{
    /// <summary>charon's own SPI of this IKE SA.</summary>
    public ulong LocalSpi => IsInitiator ? InitiatorSpi : ResponderSpi;

    /// <summary>The peer's SPI of this IKE SA.</summary>
    public ulong RemoteSpi => IsInitiator ? ResponderSpi : InitiatorSpi;

    public bool IsEstablished => State == "ESTABLISHED";

    /// <summary>CHILD_SAs in state INSTALLED (a rekeyed or deleted one may linger a few seconds).</summary>
    public IEnumerable<ChildSa> InstalledChildren => Children.Where(c => c.IsInstalled);

    public override string ToString() =>
        $"IKE_SA {Name}[{UniqueId}] {State} {(IsInitiator ? "initiator" : "responder")} " +
        $"spi_i={InitiatorSpi:x16} spi_r={ResponderSpi:x16} {LocalHost}:{LocalPort} <-> {RemoteHost}:{RemotePort} " +
        $"{EncryptionAlgorithm}-{EncryptionKeySize}/{IntegrityAlgorithm}/{PrfAlgorithm}/{DhGroup}" +
        string.Concat(Children.Select(c => "\n    " + c));

    internal static IkeSa Parse(string name, ViciSection s)
    {
        var children = s.Section("child-sas")?.Sections.Select(c => ChildSa.Parse(c.Value)).ToList() ?? [];
        return new IkeSa(
            name,
            ParseUInt(s.Value("uniqueid")),
            s.Value("state") ?? "",
            s.Value("initiator") == "yes",
            ParseHex64(s.Value("initiator-spi")),
            ParseHex64(s.Value("responder-spi")),
            s.Value("local-host") ?? "",
            (int)ParseUInt(s.Value("local-port")),
            s.Value("local-id"),
            s.Value("remote-host") ?? "",
            (int)ParseUInt(s.Value("remote-port")),
            s.Value("remote-id"),
            s.Value("encr-alg"),
            ParseOptionalInt(s.Value("encr-keysize")),
            s.Value("integ-alg"),
            s.Value("prf-alg"),
            s.Value("dh-group"),
            s.Value("nat-local") == "yes",
            s.Value("nat-remote") == "yes",
            s.Value("nat-fake") == "yes",
            children,
            s);
    }

    internal static uint ParseUInt(string? v) =>
        v is null ? 0 : uint.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture);

    internal static int? ParseOptionalInt(string? v) =>
        v is null ? null : int.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture);

    internal static ulong ParseHex64(string? v) =>
        v is null ? 0 : ulong.Parse(v, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}

/// <summary>A CHILD_SA as charon reports it, nested in its <see cref="IkeSa"/>.</summary>
/// <param name="State">INSTALLING, INSTALLED, REKEYING, REKEYED, DELETING, DELETED, ...</param>
/// <param name="Mode">TUNNEL or TRANSPORT.</param>
/// <param name="Protocol">ESP or AH.</param>
/// <param name="Encap">UDP encapsulated (always true with kernel-libipsec).</param>
/// <param name="SpiIn">SPI charon receives with (= the peer's outbound SPI).</param>
/// <param name="SpiOut">SPI charon sends with (= the peer's inbound SPI).</param>
public sealed record ChildSa(
    string Name,
    uint UniqueId,
    uint ReqId,
    string State,
    string Mode,
    string Protocol,
    bool Encap,
    uint SpiIn,
    uint SpiOut,
    string? EncryptionAlgorithm,
    int? EncryptionKeySize,
    string? IntegrityAlgorithm,
    string? DhGroup,
    IReadOnlyList<string> LocalTs,
    IReadOnlyList<string> RemoteTs,
    ViciSection Raw)
{
    public bool IsInstalled => State == "INSTALLED";

    /// <summary>ESP packets charon counted in on this SA (its counters can trail the packets it already answered).</summary>
    public long PacketsIn => long.Parse(Raw.Value("packets-in") ?? "0", System.Globalization.CultureInfo.InvariantCulture);

    public override string ToString() =>
        $"CHILD_SA {Name}{{{UniqueId}}} {State} {Mode} {Protocol}{(Encap ? "-in-UDP" : "")} " +
        $"in={SpiIn:x8} out={SpiOut:x8} {EncryptionAlgorithm}-{EncryptionKeySize}/{IntegrityAlgorithm}/{DhGroup} " +
        $"{string.Join(',', LocalTs)} === {string.Join(',', RemoteTs)}";

    internal static ChildSa Parse(ViciSection s) => new(
        s.Value("name") ?? "",
        IkeSa.ParseUInt(s.Value("uniqueid")),
        IkeSa.ParseUInt(s.Value("reqid")),
        s.Value("state") ?? "",
        s.Value("mode") ?? "",
        s.Value("protocol") ?? "",
        s.Value("encap") == "yes",
        (uint)IkeSa.ParseHex64(s.Value("spi-in")),
        (uint)IkeSa.ParseHex64(s.Value("spi-out")),
        s.Value("encr-alg"),
        IkeSa.ParseOptionalInt(s.Value("encr-keysize")),
        s.Value("integ-alg"),
        s.Value("dh-group"),
        s.List("local-ts"),
        s.List("remote-ts"),
        s);
}
