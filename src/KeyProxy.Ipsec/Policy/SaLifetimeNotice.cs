using KeyProxy.Ipsec.Esp;

namespace KeyProxy.Ipsec.Policy;

/// <summary>An SA that crossed a lifetime limit during <see cref="SecurityAssociationDatabase.Tick"/>.</summary>
public readonly record struct SaLifetimeNotice(EspSa Sa, LifetimeEvents Events);
