namespace KeyProxy.Silo.Tests;

public sealed class SiloOptionsTests
{
    [Fact]
    public void The_defaults_are_the_embedded_silo()
    {
        var options = new KeyProxySiloOptions();
        Assert.Empty(options.Validate());
        Assert.False(options.IsAzureTable);
        Assert.True(options.EffectiveDemoSubscribers);
        Assert.True(options.EdgeEnabled);
        Assert.True(options.DashboardEnabled);
        Assert.Equal($"{Environment.MachineName}-11111", options.EffectiveEdgeId);
    }

    [Fact]
    public void Azure_table_clustering_needs_a_connection_string_and_has_no_demo_subscribers_by_default()
    {
        var options = new KeyProxySiloOptions { Clustering = "azuretable" };
        Assert.True(options.IsAzureTable);
        Assert.False(options.EffectiveDemoSubscribers);
        Assert.StartsWith("KeyProxy:StorageConnectionString is required", Assert.Single(options.Validate()));
        options.StorageConnectionString = "UseDevelopmentStorage=true";
        Assert.Empty(options.Validate());
        options.DemoSubscribers = true;
        Assert.True(options.EffectiveDemoSubscribers);
    }

    [Theory]
    [InlineData("--KeyProxy:Clustering=Bogus", "KeyProxy:Clustering is 'Bogus'")]
    [InlineData("--KeyProxy:StorageConnectionString=UseDevelopmentStorage=true", "KeyProxy:StorageConnectionString is set but Clustering is Localhost")]
    [InlineData("--KeyProxy:SiloPort=abc", "Failed to convert configuration value 'abc' at 'KeyProxy:SiloPort' to type 'System.Int32'")]
    [InlineData("--KeyProxy:SiloPort=70000", "KeyProxy:SiloPort 70000 is not a port")]
    [InlineData("--KeyProxy:GatewayPort=11111", "KeyProxy:SiloPort and KeyProxy:GatewayPort are both 11111")]
    [InlineData("--KeyProxy:Clusterring=AzureTable", "'Clusterring'")]
    [InlineData("--KeyProxy:HttpUrl=ftp://127.0.0.1:21", "KeyProxy:HttpUrl 'ftp://127.0.0.1:21' is not an http:// or https:// URL")]
    [InlineData("--KeyProxy:ClusterId=", "KeyProxy:ClusterId is empty")]
    [InlineData("--KeyProxy:EdgeId= ", "KeyProxy:EdgeId is blank")]
    [InlineData("--KeyProxy:PrimarySiloPort=0", "KeyProxy:PrimarySiloPort 0 is not a port")]
    public void Invalid_configuration_fails_at_build_with_a_clear_message(string arg, string expected)
    {
        var e = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build([arg]));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("not a connection string")]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=secret-that-is-not-base64;TableEndpoint=nonsense")]
    public void A_storage_connection_string_the_Azure_SDK_cannot_use_stops_the_silo_without_repeating_it(string connectionString)
    {
        var e = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build(
            ["--KeyProxy:Clustering=AzureTable", "--KeyProxy:StorageConnectionString=" + connectionString]));
        Assert.StartsWith("KeyProxy:StorageConnectionString is not an Azure Storage connection string", Assert.Single(e.Errors));
        Assert.DoesNotContain("secret-that-is-not-base64", e.Message);
    }

    [Theory]
    [InlineData("--KeyProxy:Edge:HandsetIkePort=20500", "KeyProxy:Edge:HandsetIkePort is not a setting any more; KeyProxy:Network:HandsetIkePort is the one setting for the edges and the proxy sessions")]
    [InlineData("--KeyProxy:Edge:HandsetNatTPort=20501", "KeyProxy:Network:HandsetNatTPort")]
    [InlineData("--KeyProxy:Edge:HalfOpenTimeout=00:00:10", "KeyProxy:Network:HalfOpenTimeout")]
    [InlineData("--KeyProxy:Network:HandsetNatTPort=500", "KeyProxy:Network:HandsetIkePort and KeyProxy:Network:HandsetNatTPort are both 500")]
    [InlineData("--KeyProxy:Network:PeerIkePort=0", "KeyProxy:Network:PeerIkePort 0 is not a port")]
    [InlineData("--KeyProxy:Network:MaxTransmissions=0", "KeyProxy:Network:MaxTransmissions 0")]
    [InlineData("--KeyProxy:Network:HalfOpenTimeout=00:00:00", "KeyProxy:Network:HalfOpenTimeout 00:00:00")]
    [InlineData("--KeyProxy:Network:ChildExpireAfter=00:30:00", "KeyProxy:Network:ChildExpireAfter 00:30:00 is not after ChildRekeyAfter 01:00:00")]
    [InlineData("--KeyProxy:Edge:AddressPool=10.0.0.0/33", "KeyProxy:Edge:AddressPool")]
    [InlineData("--KeyProxy:Edge:AccessEndpoint=edge.example:7400", "KeyProxy:Edge:AccessEndpoint 'edge.example:7400' is not an address:port")]
    [InlineData("--KeyProxy:Edge:MaxHalfOpen=0", "KeyProxy:Edge:MaxHalfOpen 0")]
    [InlineData("--KeyProxy:Edge:CookieAnswersPerSecond=-1", "KeyProxy:Edge:CookieAnswersPerSecond -1")]
    public void Edge_and_network_settings_are_validated_at_start(string arg, string expected)
    {
        var e = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build([arg]));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task The_edge_binds_the_handset_ports_of_the_one_network_setting()
    {
        var ct = TestContext.Current.CancellationToken;
        int ike = FreePorts.Next(), natT = FreePorts.Next();
        var app = KeyProxySiloHost.Build(
        [
            $"--KeyProxy:HttpUrl={KeyProxy.Testing.AdminHttp.Url}", $"--KeyProxy:SiloPort={FreePorts.Next()}", $"--KeyProxy:GatewayPort={FreePorts.Next()}",
            "--KeyProxy:ClusterId=handset-ports", "--KeyProxy:Edge:AccessEndpoint=127.0.0.1:0", "--KeyProxy:DashboardEnabled=false",
            $"--KeyProxy:Network:HandsetIkePort={ike}", $"--KeyProxy:Network:HandsetNatTPort={natT}", "--Logging:LogLevel:Default=Warning",
        ]);
        await app.StartAsync(ct);
        try
        {
            using var http = KeyProxy.Testing.AdminHttp.Client(new Uri(KeyProxySiloHost.BaseUrl(app)));
            using var edge = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/api/edge", ct));
            var ports = edge.RootElement.GetProperty("ports");
            Assert.Equal((ike, natT), (ports.GetProperty("handsetIke").GetInt32(), ports.GetProperty("handsetNatT").GetInt32()));
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    [Fact]
    public void Azure_table_settings_are_checked_together()
    {
        var e = Assert.Throws<SiloConfigurationException>(() => KeyProxySiloHost.Build(
            ["--KeyProxy:Clustering=AzureTable", "--KeyProxy:PrimarySiloPort=11111", "--KeyProxy:AdvertisedAddress=silo-1"]));
        Assert.Equal(3, e.Errors.Count);
        Assert.Contains(e.Errors, m => m.StartsWith("KeyProxy:StorageConnectionString is required", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("KeyProxy:PrimarySiloPort applies to Localhost clustering only", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("KeyProxy:AdvertisedAddress 'silo-1' is not an IP address", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_silo_without_the_dashboard_serves_the_admin_api_and_no_dashboard()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = KeyProxySiloHost.Build(
        [
            $"--KeyProxy:HttpUrl={KeyProxy.Testing.AdminHttp.Url}", $"--KeyProxy:SiloPort={FreePorts.Next()}", $"--KeyProxy:GatewayPort={FreePorts.Next()}",
            "--KeyProxy:ClusterId=no-dashboard", "--KeyProxy:EdgeEnabled=false", "--KeyProxy:DashboardEnabled=false",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await app.StartAsync(ct);
        try
        {
            using var http = KeyProxy.Testing.AdminHttp.Client(new Uri(KeyProxySiloHost.BaseUrl(app)));
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/api", ct)).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("/dashboard", ct)).StatusCode);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }
}
