using CsCheck;

namespace KeyProxy.Storage.AzureTable.Tests;

public sealed class AzureTableKeysTests
{
    [Theory]
    [InlineData("plain-key_1.2", "plain-key_1.2")]
    [InlineData("a/b", "a%2Fb")]
    [InlineData("a\\b#c?d", "a%5Cb%23c%3Fd")]
    [InlineData("100%", "100%25")]
    [InlineData("tab\there", "tab%09here")]
    [InlineData("del\u007f", "del%7F")]
    [InlineData("c1\u0085", "c1%85")]
    [InlineData("~x", "%7Ex")]
    [InlineData("", "")]
    public void Escape_replaces_what_Azure_forbids(string input, string expected) =>
        Assert.Equal(expected, AzureTableKeys.Escape(input));

    [Fact]
    public void Escaped_keys_are_valid_short_enough_and_distinct()
    {
        Gen.String[Gen.Char, 0, 700].Select(Gen.String[Gen.Char, 0, 700]).Sample((a, b) =>
        {
            string ka = AzureTableKeys.Escape(a), kb = AzureTableKeys.Escape(b);
            Assert.True(ka.Length <= AzureTableKeys.MaxKeyLength);
            foreach (char c in ka)
            {
                Assert.False(c is '/' or '\\' or '#' or '?' || char.IsControl(c), $"forbidden char {(int)c:X4} in key");
            }

            Assert.Equal(a == b, ka == kb);
        }, iter: 2000);
    }

    [Fact]
    public void Long_keys_are_cut_and_hashed_deterministically()
    {
        string a = new('x', 2000), b = new string('x', 1999) + "y";
        Assert.Equal(AzureTableKeys.Escape(a), AzureTableKeys.Escape(a));
        Assert.NotEqual(AzureTableKeys.Escape(a), AzureTableKeys.Escape(b));
        Assert.Equal(AzureTableKeys.MaxKeyLength - 47, AzureTableKeys.Escape(a).Length);
    }

    [Theory]
    [InlineData("KeyProxyMembership", true)]
    [InlineData("abc", true)]
    [InlineData("ab", false)]
    [InlineData("1abc", false)]
    [InlineData("abc-def", false)]
    [InlineData("Tables", false)]
    public void Table_names_follow_Azure_rules(string name, bool valid) =>
        Assert.Equal(valid, AzureTableStorageOptions.IsValidTableName(name));

    [Fact]
    public void Validation_names_the_provider_and_the_problem()
    {
        var missing = new AzureTableGrainStorageOptions();
        var ex = Assert.Throws<Orleans.Runtime.OrleansConfigurationException>(() => missing.Validate("store"));
        Assert.Contains("'store'", ex.Message);
        Assert.Contains("ConnectionString", ex.Message);

        var badName = new AzureTableClusteringOptions { ConnectionString = "UseDevelopmentStorage=true", TableName = "no_underscores" };
        Assert.Contains("no_underscores", Assert.Throws<Orleans.Runtime.OrleansConfigurationException>(() => badName.Validate("c")).Message);

        var badString = new AzureTableClusteringOptions { ConnectionString = "not a connection string" };
        Assert.Throws<Orleans.Runtime.OrleansConfigurationException>(() => badString.Validate("c"));

        new AzureTableClusteringOptions { ConnectionString = "UseDevelopmentStorage=true" }.Validate("c");
    }
}
