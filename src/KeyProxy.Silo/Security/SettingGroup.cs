namespace KeyProxy.Silo.Security;

/// <summary>
/// Settings that go together (a certificate and its key, an issuer with its audience and keys): none set means
/// Development mode makes its own, all set is a configuration, anything in between is an error; in Production mode all
/// are required. One message names every missing setting.
/// </summary>
internal static class SettingGroup
{
    /// <summary>
    /// The problem with <paramref name="settings"/> of <paramref name="section"/>, or null: in Production
    /// "... required in Production mode: <paramref name="productionWhy"/>", else, when some are set,
    /// "... missing: <paramref name="together"/>".
    /// </summary>
    public static string? Problem(string section, IEnumerable<(string Name, bool Set)> settings, bool production, string productionWhy, string together)
    {
        var all = settings.ToList();
        var missing = all.Where(s => !s.Set).Select(s => $"{section}:{s.Name}").ToList();
        if (missing.Count == 0) return null;
        var names = $"{string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")}";
        if (production) return $"{names} required in Production mode: {productionWhy}";
        return missing.Count < all.Count ? $"{names} missing: {together}" : null;
    }
}
