using System.Reflection;
using System.Xml.Linq;
using KeyProxy.Handset.Cli;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Handset.Tests;

/// <summary>
/// The handset side never does IKE (docs/ARCHITECTURE.md, "Projects and the direction of dependencies"):
/// <c>KeyProxy.Handset</c>, its command line, <c>KeyProxy.Ipsec</c> and <c>KeyProxy.Wire</c> reference neither the
/// IKE engine's assembly nor, directly or through another project, its project; nor any key exchange code: the
/// Diffie-Hellman and ML-KEM implementations the proxy runs for it (BouncyCastle's, issue 19's hybrid SAs).
/// </summary>
public class LayeringTests
{
    private const string Engine = "KeyProxy.Ike";

    /// <summary>Assemblies the handset side must not reach: the engine, and the library with its DH and ML-KEM.</summary>
    private static readonly HashSet<string> Forbidden = [Engine, "BouncyCastle.Cryptography"];

    public static TheoryData<string> HandsetSide => ["KeyProxy.Handset", "KeyProxy.Handset.Cli", "KeyProxy.Ipsec", "KeyProxy.Wire"];

    /// <summary>Each project's assembly (the command line's is named keyproxy-handset).</summary>
    private static readonly Dictionary<string, Assembly> Assemblies = new()
    {
        ["KeyProxy.Handset"] = typeof(Handset).Assembly,
        ["KeyProxy.Handset.Cli"] = typeof(UdpHandsetHost).Assembly,
        ["KeyProxy.Ipsec"] = typeof(EspSaParameters).Assembly,
        ["KeyProxy.Wire"] = typeof(SaBundle).Assembly,
    };

    [Theory]
    [MemberData(nameof(HandsetSide))]
    public void The_assembly_does_not_reference_the_IKE_engine(string name)
    {
        var seen = new HashSet<string>();
        var path = new Stack<string>();
        Walk(Assemblies[name].GetName(), seen, path, out var chain);
        Assert.True(chain is null, $"{name} references key exchange code: {chain}");
    }

    [Theory]
    [MemberData(nameof(HandsetSide))]
    public void The_project_does_not_reference_the_IKE_engine(string name)
    {
        var root = RepositoryRoot();
        var project = Path.Combine(root, "src", name, name + ".csproj");
        Assert.True(File.Exists(project), project);
        var chain = ProjectChainTo(project, Engine + ".csproj", []);
        Assert.True(chain is null, $"{name}.csproj references {Engine}.csproj: {chain}");
    }

    /// <summary>Follows the KeyProxy assemblies referenced from <paramref name="name"/>; <paramref name="chain"/> names the path to the engine when there is one.</summary>
    private static void Walk(AssemblyName name, HashSet<string> seen, Stack<string> path, out string? chain)
    {
        chain = null;
        var simple = name.Name!;
        path.Push(simple);
        try
        {
            if (Forbidden.Contains(simple))
            {
                chain = string.Join(" -> ", path.Reverse());
                return;
            }

            if (IsPlatform(simple) || !seen.Add(simple))
            {
                return;
            }

            foreach (var reference in Assembly.Load(name).GetReferencedAssemblies())
            {
                Walk(reference, seen, path, out chain);
                if (chain is not null)
                {
                    return;
                }
            }
        }
        finally
        {
            path.Pop();
        }
    }

    private static bool IsPlatform(string name) =>
        name is "mscorlib" or "netstandard" || name.StartsWith("System", StringComparison.Ordinal) || name.StartsWith("Microsoft.", StringComparison.Ordinal);

    private static string? ProjectChainTo(string project, string target, List<string> path)
    {
        var full = Path.GetFullPath(project);
        if (path.Contains(full))
        {
            return null;
        }

        path.Add(full);
        try
        {
            if (Path.GetFileName(full).Equals(target, StringComparison.OrdinalIgnoreCase))
            {
                return string.Join(" -> ", path.Select(Path.GetFileNameWithoutExtension));
            }

            var directory = Path.GetDirectoryName(full)!;
            foreach (var include in XDocument.Load(full).Descendants("ProjectReference").Select(e => (string?)e.Attribute("Include")))
            {
                if (include is null)
                {
                    continue;
                }

                var referenced = Path.Combine(directory, include.Replace('\\', Path.DirectorySeparatorChar));
                if (ProjectChainTo(referenced, target, path) is { } chain)
                {
                    return chain;
                }
            }

            return null;
        }
        finally
        {
            path.RemoveAt(path.Count - 1);
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "KeyProxyOrleans.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no KeyProxyOrleans.sln above {AppContext.BaseDirectory}");
    }
}
