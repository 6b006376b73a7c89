using System.Reflection;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// infra/strongswan/plugins.conf, embedded at build time: the plugins charon and swanctl load in
/// every test peer, and the Debian package that ships each. scripts/check-strongswan.sh checks the
/// same table before the tests run, so a peer here never loads a plugin that check did not see.
/// </summary>
public static class StrongSwanPlugins
{
    public sealed record Plugin(string Name, string Package, bool Charon, bool Swanctl);

    public static IReadOnlyList<Plugin> All { get; } = Parse(ReadEmbeddedTable());

    /// <summary>charon's load list. <c>kdf</c> is in it: an explicit list turns load_modular off.</summary>
    public static string Charon { get; } = string.Join(' ', All.Where(p => p.Charon).Select(p => p.Name));

    /// <summary>swanctl's own plugins: enough to parse PEM certificates and PKCS#8 keys.</summary>
    public static string Swanctl { get; } = string.Join(' ', All.Where(p => p.Swanctl).Select(p => p.Name));

    /// <summary>Rows of "plugin package loaded-by", loaded-by a comma list of charon and swanctl; # starts a comment.</summary>
    public static IReadOnlyList<Plugin> Parse(string table)
    {
        var plugins = new List<Plugin>();
        foreach (var raw in table.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var cols = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (cols.Length != 3) throw new FormatException($"plugins.conf: expected 'plugin package loaded-by', got '{line}'");
            var users = cols[2].Split(',');
            foreach (var u in users)
                if (u is not ("charon" or "swanctl")) throw new FormatException($"plugins.conf: '{u}' loads no plugin (charon or swanctl): '{line}'");
            plugins.Add(new Plugin(cols[0], cols[1], users.Contains("charon"), users.Contains("swanctl")));
        }
        return plugins;
    }

    private static string ReadEmbeddedTable()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("strongswan-plugins.conf")
            ?? throw new InvalidOperationException("strongswan-plugins.conf is not embedded (see the csproj)");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
