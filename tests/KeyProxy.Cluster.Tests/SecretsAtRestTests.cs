using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using KeyProxy.Silo.Storage;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// Issue 16 items 4 and 6 on real Azure Table storage (Azurite): subscribers provisioned through the admin API of a
/// Production-mode silo leave none of their secrets, pre-shared keys or private keys in the raw rows, in any encoding;
/// <c>rotate-stored-secrets</c> re-wraps every row under a new key, after which a silo holding only the new key serves
/// them; a tampered row fails to load with a clear error, is never used, and is left unchanged.
/// </summary>
public sealed class SecretsAtRestTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private static readonly string K1 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private static readonly string K2 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task Stored_rows_hold_no_secret_rotation_rewraps_them_and_a_tampered_row_is_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        var serviceId = "atrest-" + Guid.NewGuid().ToString("N")[..8];
        string[] nais = ["alice-r@cluster.keyproxy.test", "bob-r@cluster.keyproxy.test", "carol-r@cluster.keyproxy.test"];
        var keyPems = new Dictionary<string, (string Certificate, string Key)>();

        // 1. Provisioned through the admin API of a Production silo holding key k1.
        var withK1 = Settings(serviceId, "k1", ("k1", K1));
        await using (var silo = await StartAsync(withK1))
        using (var http = Http(silo))
        {
            foreach (var nai in nais)
            {
                var (cert, key) = SelfSigned("CN=" + nai);
                keyPems[nai] = (cert, key);
                var profile = Subscribers.Profile(nai, "127.0.97.0/24");
                profile["certificate"] = new JsonObject { ["certificatePem"] = cert, ["privateKeyPem"] = key };
                await Subscribers.ProvisionAsync(http, nai, "127.0.97.0/24", profile, ct);
            }
        }

        // 2. The raw rows: JSON an operator reads, none of the secrets in any encoding, the key id k1.
        var rows = await RowsAsync(serviceId);
        Assert.Equal(nais.Length, rows.Count);
        foreach (var nai in nais)
        {
            var text = StoredSecretRotation.ReadText(rows[nai])!;
            var found = SecretEncodings.FoundIn(text, [
                ("secret", SecretEncodings.Of(Encoding.UTF8.GetBytes(Subscribers.Secret(nai)))),
                ("psk", SecretEncodings.Of(Encoding.UTF8.GetBytes(Subscribers.Psk))),
                ("private key", SecretEncodings.OfPem(keyPems[nai].Key, keyPems[nai].Certificate))]);
            Assert.True(found.Count == 0, $"{nai}'s row holds " + string.Join(", ", found) + ": " + text);
            Assert.DoesNotContain("unprotected:", text);
            Assert.DoesNotContain("PRIVATE KEY", text);
            Assert.Contains($"\"Nai\":\"{nai}\"", text);
            Assert.Equal("k1", EnvelopeSecrets.KeyIdOf(JsonNode.Parse(text)!.AsObject()));
        }

        // 3. Rotation to k2: every row re-wrapped, then nothing more to do.
        var withBoth = Settings(serviceId, "k2", ("k1", K1), ("k2", K2));
        var (exit, text2) = await RotateAsync(withBoth);
        Assert.True(exit == 0, $"rotation exited {exit}: {text2}");
        Assert.Contains($"3 subscriber rows; 3 re-wrapped under key 'k2', 0 encrypted (were unprotected), 0 already under 'k2', 0 without secrets, 0 failed", text2);
        (exit, text2) = await RotateAsync(withBoth);
        Assert.True(exit == 0, $"second rotation exited {exit}: {text2}");
        Assert.Contains("0 re-wrapped under key 'k2', 0 encrypted (were unprotected), 3 already under 'k2'", text2);
        rows = await RowsAsync(serviceId);
        Assert.All(nais, nai => Assert.Equal("k2", EnvelopeSecrets.KeyIdOf(JsonNode.Parse(StoredSecretRotation.ReadText(rows[nai])!)!.AsObject())));

        // 4. Tampering: bob's secret flipped by one bit, carol's data key wrapped under a key id nobody has.
        await TamperAsync(rows[nais[1]], json => json["Profile"]!["Secret"] = FlipLastByte((string)json["Profile"]!["Secret"]!));
        await TamperAsync(rows[nais[2]], json => json[EnvelopeSecrets.HeaderName]!["KeyId"] = "k9");
        var tampered = await RowsAsync(serviceId);

        // 5. A silo with k2 alone serves alice (re-wrapped rows load without k1) and refuses bob and carol.
        await using (var silo = await StartAsync(Settings(serviceId, "k2", ("k2", K2))))
        using (var http = Http(silo))
        {
            var alice = await Subscribers.GetAsync(http, nais[0], ct);
            Assert.Equal(nais[0], (string?)alice!["nai"]);
            foreach (var nai in nais[1..])
            {
                using var response = await http.GetAsync("/api/subscribers/" + Uri.EscapeDataString(nai), ct);
                Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            }

            var log = silo.Output;
            var bobRow = $"stored record '{tampered[nais[1]].PartitionKey}' / 'subscriber': ";
            Assert.Contains(bobRow + "$.Profile.Secret does not authenticate under the row's data key (tampered, or moved from another row or field); the record is not used", log);
            Assert.Contains($"stored record '{tampered[nais[2]].PartitionKey}' / 'subscriber': its data key is wrapped under key id 'k9', which this silo does not have", log);
        }

        // 6. Nothing in storage changed by the refusals, nor by a rotation that reports them and exits 1.
        (exit, text2) = await RotateAsync(Settings(serviceId, "k2", ("k2", K2)));
        Assert.True(exit == 1, $"rotation over tampered rows exited {exit}: {text2}");
        Assert.Contains("1 already under 'k2', 0 without secrets, 2 failed", text2);
        Assert.Contains("$.Profile.Secret does not authenticate", text2);
        Assert.Contains("key id 'k9'", text2);
        var after = await RowsAsync(serviceId);
        foreach (var nai in nais[1..])
        {
            Assert.Equal(tampered[nai].ETag, after[nai].ETag);
            Assert.Equal(StoredSecretRotation.ReadText(tampered[nai]), StoredSecretRotation.ReadText(after[nai]));
        }
    }

    private static Dictionary<string, string> Settings(string serviceId, string active, params (string Id, string Key)[] keys)
    {
        // Production mode also needs cluster TLS certificates (issue 16 item 3) and the admin listener's certificate and token keys (items 1-2).
        var settings = new Dictionary<string, string>(ClusterPki.Settings().Concat(KeyProxy.Testing.AdminHttp.ProductionEnvironment(ClusterPki.Directory)))
        {
            ["KeyProxy__ServiceId"] = serviceId,
            ["KeyProxy__Mode"] = "Production",
            ["KeyProxy__SecretsAtRest__ActiveKeyId"] = active,
        };
        foreach (var (id, key) in keys) settings["KeyProxy__SecretsAtRest__Keys__" + id] = key;
        return settings;
    }

    private sealed class Silo(SiloProcess process) : IAsyncDisposable
    {
        public SiloProcess Process => process;

        public string Output => process.Output;

        public async ValueTask DisposeAsync()
        {
            await process.TerminateAsync(TimeSpan.FromSeconds(15));
            process.Dispose();
        }
    }

    /// <summary>One core silo (no edge) on Azure storage with <paramref name="settings"/>.</summary>
    private async Task<Silo> StartAsync(Dictionary<string, string> settings)
    {
        var spec = new SiloSpec("core", KeyProxy.Testing.FreeTcpPorts.Next(), KeyProxy.Testing.FreeTcpPorts.Next(), null);
        var process = SiloProcess.Start(spec, azurite.ConnectionString, LocalCluster.NewId("atrest"), LocalCluster.FreeUdpPort(), LocalCluster.FreeUdpPort(), settings);
        var silo = new Silo(process);
        try
        {
            await process.WaitReadyAsync(TimeSpan.FromSeconds(60));
            return silo;
        }
        catch
        {
            output.WriteLine(process.Output);
            await silo.DisposeAsync();
            throw;
        }
    }

    private static HttpClient Http(Silo silo) => KeyProxy.Testing.AdminHttp.Client(silo.Process.BaseUrl, TimeSpan.FromSeconds(30), ClusterPki.Directory);

    /// <summary>The subscriber rows of <paramref name="serviceId"/> by NAI, as stored.</summary>
    private async Task<Dictionary<string, TableEntity>> RowsAsync(string serviceId)
    {
        var table = new TableClient(azurite.ConnectionString, AzureStorageSetup.GrainStateTable);
        var rows = new Dictionary<string, TableEntity>();
        var prefix = StoredRecordId.PartitionPrefix(serviceId, StoredSecretRotation.SubscriberGrainType);
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.RowKey == StoredSecretRotation.SubscriberStateName))
        {
            if (row.PartitionKey.StartsWith(prefix, StringComparison.Ordinal)) rows[row.PartitionKey[prefix.Length..]] = row;
        }

        return rows;
    }

    private async Task TamperAsync(TableEntity row, Action<JsonObject> change)
    {
        var json = JsonNode.Parse(StoredSecretRotation.ReadText(row)!)!.AsObject();
        change(json);
        var text = json.ToJsonString();
        Assert.True(text.Length < 32 * 1024, "the test row fits one column");
        var copy = new TableEntity(row.PartitionKey, row.RowKey) { ["StringData"] = text };
        await new TableClient(azurite.ConnectionString, AzureStorageSetup.GrainStateTable).UpdateEntityAsync(copy, row.ETag, TableUpdateMode.Replace);
    }

    private static string FlipLastByte(string value)
    {
        var bytes = Convert.FromBase64String(value[EnvelopeSecrets.ValuePrefix.Length..]);
        bytes[^1] ^= 0x01;
        return EnvelopeSecrets.ValuePrefix + Convert.ToBase64String(bytes);
    }

    private static (string Certificate, string PrivateKey) SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject.Replace('@', '.'), key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>The command as an operator runs it: the built silo with the subcommand, settings in the environment.</summary>
    private async Task<(int Exit, string Output)> RotateAsync(Dictionary<string, string> settings)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(SiloProcess.SiloAssembly());
        info.ArgumentList.Add(StoredSecretRotation.Command);
        info.Environment["KeyProxy__StorageConnectionString"] = azurite.ConnectionString;
        foreach (var (name, value) in settings) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        var text = await stdout + await stderr;
        output.WriteLine(text);
        return (process.ExitCode, text);
    }
}
