using KeyProxy.Ipsec.Esp;
using KeyProxy.Ipsec.Policy;

namespace KeyProxy.Ipsec.Tests.Esp;

/// <summary>
/// The steady encrypt + decrypt path allocates nothing (an allocation assertion, not a timing one). The runtime
/// may allocate once while it tiers methods up, so each case measures a few rounds of 5,000 packets after a
/// warm-up and requires a round with zero bytes: an allocation on the path itself would show in every round.
/// </summary>
public sealed class AllocationTests
{
    public static TheoryData<string, bool> Suites()
    {
        var data = new TheoryData<string, bool>();
        foreach (var suite in TestSas.AllSuites())
        {
            data.Add(suite.ToString(), false);
            data.Add(suite.ToString(), true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Encrypt_and_decrypt_allocate_nothing_after_warm_up(string suiteName, bool esn)
    {
        var suite = TestSas.AllSuites().Single(s => s.ToString() == suiteName).WithEsn(esn);
        var (sender, receiver) = TestSas.Pair(suite, window: 1024);
        var inner = TestPackets.Ipv4("10.0.0.1", "10.0.0.2", totalLength: 1400);
        var esp = new byte[2000];
        var clear = new byte[2000];
        var now = TestSas.T0;

        void Round(int packets)
        {
            for (var i = 0; i < packets; i++)
            {
                var sent = sender.Encrypt(inner, esp, now);
                var received = receiver.Decrypt(esp.AsSpan(0, sent.BytesWritten), clear, now);
                if (received.Status != EspStatus.Ok)
                {
                    Assert.Fail($"packet {i}: {sent.Status} / {received.Status}");
                }
            }
        }

        Round(3000);
        var best = long.MaxValue;
        for (var round = 0; round < 4 && best != 0; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            Round(5000);
            best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, best);
    }

    [Fact]
    public void Sad_encrypt_and_decrypt_allocate_nothing_after_warm_up()
    {
        var parameters = TestSas.Parameters(TestSas.Gcm128);
        var sad = new SecurityAssociationDatabase();
        sad.Add(new OutboundEspSa(new EspSaParameters { Spi = parameters.Spi, Suite = parameters.Suite, EncryptionKey = parameters.EncryptionKey, LocalSelectors = [Selectors.Prefix("10.0.0.0/8")], RemoteSelectors = [Selectors.Prefix("10.0.0.0/8")] }, TestSas.T0));
        sad.Add(new InboundEspSa(parameters, TestSas.T0));
        var inner = TestPackets.Ipv4("10.0.0.1", "10.0.0.2", totalLength: 512);
        var esp = new byte[2000];
        var clear = new byte[2000];

        void Round(int packets)
        {
            for (var i = 0; i < packets; i++)
            {
                var sent = sad.Encrypt(inner, esp, TestSas.T0);
                if (sad.Decrypt(esp.AsSpan(0, sent.BytesWritten), clear, TestSas.T0).Status != EspStatus.Ok)
                {
                    Assert.Fail($"packet {i}");
                }
            }
        }

        Round(3000);
        var best = long.MaxValue;
        for (var round = 0; round < 4 && best != 0; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            Round(5000);
            best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, best);
    }
}
