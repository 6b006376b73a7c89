using KeyProxy.Ipsec.Esp;

namespace KeyProxy.Ipsec.Tests.Esp;

public sealed class ReplayWindowTests
{
    [Fact]
    public void Default_window_is_1024_and_sizes_must_be_powers_of_two()
    {
        Assert.Equal(1024, new ReplayWindow().Size);
        Assert.Equal(4096, new ReplayWindow(4096).Size);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplayWindow(1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplayWindow(32));
    }

    [Fact]
    public void First_packet_any_number_from_1_is_new_and_0_is_invalid()
    {
        var window = new ReplayWindow();
        Assert.Equal(ReplayCheck.Invalid, window.Check(0));
        Assert.Equal(ReplayCheck.Ok, window.Check(1));
        Assert.Equal(ReplayCheck.Ok, window.Check(5000));
        window.Accept(5000);
        Assert.Equal(5000UL, window.Highest);
        Assert.Equal(ReplayCheck.Duplicate, window.Check(5000));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(1024)]
    [InlineData(2048)]
    public void Exact_window_edge_is_inside_and_one_further_is_too_old(int size)
    {
        var window = new ReplayWindow(size);
        const ulong top = 100_000;
        window.Accept(top);
        var edge = top - (ulong)size + 1;
        Assert.Equal(ReplayCheck.Ok, window.Check(edge));
        Assert.Equal(ReplayCheck.TooOld, window.Check(edge - 1));
        window.Accept(edge);
        Assert.Equal(ReplayCheck.Duplicate, window.Check(edge));
        // Every number in between is still unseen.
        for (var n = edge + 1; n < top; n++)
        {
            Assert.Equal(ReplayCheck.Ok, window.Check(n));
        }
    }

    [Fact]
    public void Duplicates_inside_the_window_are_caught_in_any_order()
    {
        var window = new ReplayWindow();
        var order = Enumerable.Range(1, 3000).Select(i => (ulong)i).OrderBy(i => (i * 7919) % 3001).ToArray();
        var accepted = new HashSet<ulong>();
        foreach (var n in order)
        {
            var verdict = window.Check(n);
            if (verdict == ReplayCheck.Ok)
            {
                window.Accept(n);
                Assert.True(accepted.Add(n));
            }

            Assert.NotEqual(ReplayCheck.Ok, window.Check(n));
        }

        // Every accepted number was new, and nothing below the window was accepted after the window passed it.
        Assert.All(accepted, n => Assert.True(n > 0));
    }

    [Fact]
    public void Large_jumps_clear_the_old_bits()
    {
        var window = new ReplayWindow();
        for (ulong n = 1; n <= 1024; n++)
        {
            window.Accept(n);
        }

        window.Accept(1_000_000);
        Assert.Equal(ReplayCheck.TooOld, window.Check(1024));
        for (var n = 1_000_000UL - 1023; n < 1_000_000; n++)
        {
            Assert.Equal(ReplayCheck.Ok, window.Check(n));
        }

        // A jump of less than a window keeps the overlap.
        window.Accept(999_990);
        window.Accept(1_000_500);
        Assert.Equal(ReplayCheck.Duplicate, window.Check(999_990));
        Assert.Equal(ReplayCheck.Duplicate, window.Check(1_000_000));
        Assert.Equal(ReplayCheck.Ok, window.Check(1_000_001));
    }

    [Fact]
    public void Esn_inference_in_one_subspace_and_across_the_2_32_boundary()
    {
        var window = new ReplayWindow();
        Assert.Equal(5UL, window.InferSequenceNumber(5));
        // Before anything: numbers that would sit just below 2^32 of subspace -1 do not exist.
        Assert.Equal(0UL, window.InferSequenceNumber(uint.MaxValue));

        window.Accept(0x1_0000_0000UL + 100); // Th = 2^32 + 100: the window spans two subspaces (case B)
        Assert.Equal(0x1_0000_0000UL + 50, window.InferSequenceNumber(50));
        Assert.Equal(0x1_0000_0000UL + 5000, window.InferSequenceNumber(5000));
        Assert.Equal(0xFFFF_FFF0UL, window.InferSequenceNumber(0xFFFF_FFF0)); // still in the window, previous subspace

        var high = new ReplayWindow();
        high.Accept(0xFFFF_FFF0UL); // case A near the top of subspace 0
        Assert.Equal(0x1_0000_0003UL, high.InferSequenceNumber(3)); // wraps to subspace 1
        Assert.Equal(0xFFFF_FC00UL, high.InferSequenceNumber(0xFFFF_FC00));

        var top = new ReplayWindow();
        top.Accept(ulong.MaxValue - 1);
        Assert.Equal(ulong.MaxValue, top.InferSequenceNumber(uint.MaxValue));
        Assert.Equal(0UL, top.InferSequenceNumber(1)); // would be past 2^64-1
    }
}
