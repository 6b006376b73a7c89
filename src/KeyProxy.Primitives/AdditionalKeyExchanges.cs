namespace KeyProxy.Primitives;

/// <summary>
/// The methods of a proposal's ADDITIONAL_KEY_EXCHANGE_1..7 transforms (RFC 9370 2.2.2, transform types 6-12), by slot;
/// <see cref="DhGroup.None"/> where a slot is not used. Each used slot is one IKE_INTERMEDIATE exchange after
/// IKE_SA_INIT, in slot order (RFC 9370 2.2.2). Compared by value.
/// </summary>
public readonly struct AdditionalKeyExchanges : IEquatable<AdditionalKeyExchanges>
{
    /// <summary>ADDITIONAL_KEY_EXCHANGE_1 to _7.</summary>
    public const int Slots = 7;

    private readonly DhGroup[]? _methods;

    /// <summary><paramref name="methods"/>[i] is the method of ADDITIONAL_KEY_EXCHANGE_(i+1).</summary>
    public AdditionalKeyExchanges(ReadOnlySpan<DhGroup> methods)
    {
        if (methods.Length > Slots) throw new ArgumentException($"at most {Slots} additional key exchanges", nameof(methods));
        if (methods.IndexOfAnyExcept(DhGroup.None) < 0) return;
        _methods = new DhGroup[Slots];
        methods.CopyTo(_methods);
    }

    public static AdditionalKeyExchanges None => default;

    /// <summary>The method of ADDITIONAL_KEY_EXCHANGE_<paramref name="slot"/> (1-7).</summary>
    public DhGroup this[int slot] => slot is >= 1 and <= Slots
        ? _methods?[slot - 1] ?? DhGroup.None
        : throw new ArgumentOutOfRangeException(nameof(slot), slot, "slots are 1 to 7");

    public bool IsEmpty => _methods is null;

    /// <summary>The used slots' methods in exchange order.</summary>
    public IReadOnlyList<DhGroup> InExchangeOrder()
    {
        var order = new List<DhGroup>();
        if (_methods is not null)
            foreach (var m in _methods)
                if (m != DhGroup.None) order.Add(m);
        return order;
    }

    public bool Equals(AdditionalKeyExchanges other)
    {
        for (int slot = 1; slot <= Slots; slot++)
            if (this[slot] != other[slot]) return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is AdditionalKeyExchanges other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        for (int slot = 1; slot <= Slots; slot++) hash.Add(this[slot]);
        return hash.ToHashCode();
    }

    public static bool operator ==(AdditionalKeyExchanges left, AdditionalKeyExchanges right) => left.Equals(right);

    public static bool operator !=(AdditionalKeyExchanges left, AdditionalKeyExchanges right) => !left.Equals(right);

    /// <summary>strongSwan's notation: "-ke1_mlkem768-ke2_mlkem1024", empty when none.</summary>
    public override string ToString()
    {
        if (_methods is null) return "";
        var text = new System.Text.StringBuilder();
        for (int slot = 1; slot <= Slots; slot++)
            if (this[slot] != DhGroup.None) text.Append("-ke").Append(slot).Append('_').Append(SuiteNames.MethodName(this[slot]));
        return text.ToString();
    }
}
