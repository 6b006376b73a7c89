using System.Diagnostics;
using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.Tests;

/// <summary>
/// scripts/check-strongswan.sh, which scripts/test.sh runs before any test: it passes on this
/// machine's charon, and stops with one line naming the package when a plugin fails to load or an
/// algorithm the tests use is missing (the fresh-machine failure: no libstrongswan-standard-plugins).
/// </summary>
public sealed class StrongSwanCheckTests(ITestOutputHelper output)
{
    private static readonly string Root = RepositoryRoot();
    private static readonly string Table = Path.Combine(Root, "infra", "strongswan", "plugins.conf");

    [Fact]
    public async Task Passes_with_the_plugins_the_tests_load()
    {
        var (code, stdout, stderr) = await CheckAsync(table: null);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"^check-strongswan: charon \S+ loads \d+ plugins and offers all \d+ algorithms the tests use\n$", stdout);
    }

    [Fact]
    public async Task A_plugin_that_fails_to_load_stops_the_run_naming_its_package()
    {
        var table = WriteTable(File.ReadAllText(Table) + "nosuchplugin  libstrongswan-nosuch-plugins  charon\n");
        var (code, stdout, stderr) = await CheckAsync(table);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("check-strongswan: charon plugins failed to load: nosuchplugin. Install: apt-get install libstrongswan-nosuch-plugins.\n", stderr);
    }

    [Fact]
    public async Task Charon_without_the_standard_plugins_has_no_aes_gcm_and_the_check_says_which_package()
    {
        // What a --no-install-recommends install left on a fresh machine: no openssl, no gcm plugin.
        var table = WriteTable(string.Join('\n', File.ReadAllLines(Table).Where(l => !l.StartsWith("openssl ", StringComparison.Ordinal) && !l.StartsWith("gcm ", StringComparison.Ordinal))) + "\n");
        var (code, _, stderr) = await CheckAsync(table);
        Assert.Equal(1, code);
        Assert.StartsWith("check-strongswan: charon offers no AES_GCM_16 ", stderr);
        Assert.Contains("install libstrongswan-standard-plugins", stderr);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task The_table_names_the_debian_package_that_ships_each_plugin()
    {
        foreach (var plugin in StrongSwanPlugins.All)
        {
            var (code, stdout, stderr) = await RunAsync("dpkg", ["-S", $"/usr/lib/ipsec/plugins/libstrongswan-{plugin.Name}.so"]);
            Assert.True(code == 0, $"{plugin.Name}: {stderr}");
            Assert.Equal(plugin.Package, stdout.Split(':')[0]);
        }
    }

    [Fact]
    public void The_readme_install_line_names_the_packages_test_sh_installs()
    {
        // scripts/test.sh installs strongswan-charon, strongswan-swanctl and every package of the table.
        var expected = StrongSwanPlugins.All.Select(p => p.Package).Append("strongswan-charon").Append("strongswan-swanctl").ToHashSet();
        var line = File.ReadLines(Path.Combine(Root, "README.md")).Single(l => l.StartsWith("apt-get install strongswan-", StringComparison.Ordinal));
        var named = line["apt-get install ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        Assert.Equal(expected.Order(), named.Order());
    }

    [Fact]
    public void The_embedded_table_is_the_one_the_script_reads()
    {
        Assert.Equal(StrongSwanPlugins.Parse(File.ReadAllText(Table)), StrongSwanPlugins.All);
        Assert.Contains(StrongSwanPlugins.All, p => p.Name == "kdf" && p.Charon);
        Assert.Throws<FormatException>(() => StrongSwanPlugins.Parse("gcm libstrongswan-standard-plugins pluto\n"));
    }

    private string WriteTable(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"keyproxy-plugins-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, text);
        output.WriteLine($"table {path}");
        return path;
    }

    private async Task<(int Code, string Stdout, string Stderr)> CheckAsync(string? table)
    {
        string[] args = table is null ? [Path.Combine(Root, "scripts", "check-strongswan.sh")] : [Path.Combine(Root, "scripts", "check-strongswan.sh"), "--table", table];
        var result = await RunAsync("bash", args);
        output.WriteLine($"exit {result.Code}\n{result.Stdout}{result.Stderr}");
        if (table is not null) File.Delete(table);
        return result;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await p.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (p.ExitCode, await stdout, await stderr);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KeyProxyOrleans.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
    }
}
