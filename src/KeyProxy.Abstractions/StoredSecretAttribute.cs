namespace KeyProxy.Abstractions;

/// <summary>
/// Marks a member holding key material (a subscriber secret, a pre-shared key, a private key, a delivery key). The
/// silo's JSON grain-state format writes every member so marked through one converter, the seam where encryption at
/// rest goes (operators' security issue 16); nothing else in the stored row may carry it.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class StoredSecretAttribute : Attribute;
