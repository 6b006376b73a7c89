using System.Numerics;

namespace KeyProxy.Ipsec.Esp;

/// <summary>
/// Receive-side anti-replay window (RFC 4303 3.4.3 and Appendix A) over 64-bit sequence numbers: a bitmap of
/// <see cref="Size"/> packets ending at the highest authenticated number. The bitmap is a ring of 64-bit words
/// one word larger than the window (the RFC 6479 layout), so sliding right clears whole words and never shifts.
/// <see cref="Check"/> runs before the ICV, <see cref="Accept"/> only after the ICV verified.
/// With ESN, <see cref="InferSequenceNumber"/> recovers the high 32 bits (Appendix A2.2). Not thread-safe.
/// </summary>
public sealed class ReplayWindow
{
    public const int DefaultSize = 1024;

    private readonly ulong[] _words;
    private readonly ulong _wordMask;
    private ulong _highest;

    public ReplayWindow(int size = DefaultSize)
    {
        if (size < 64 || !BitOperations.IsPow2(size))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "the replay window must be a power of two of at least 64");
        }

        Size = size;
        var words = (int)BitOperations.RoundUpToPowerOf2((uint)(size / 64 + 1));
        _words = new ulong[words];
        _wordMask = (ulong)words - 1;
    }

    /// <summary>Packets the window covers.</summary>
    public int Size { get; }

    /// <summary>Highest authenticated sequence number (Th in Appendix A); 0 before the first packet.</summary>
    public ulong Highest => _highest;

    /// <summary>
    /// RFC 4303 Appendix A2.2: the full 64-bit number for <paramref name="low"/>, choosing the high 32 bits that
    /// put it in or right of the window. Returns 0 when the only candidate lies before sequence number 1, or past 2^64-1.
    /// </summary>
    public ulong InferSequenceNumber(uint low)
    {
        var window = (uint)Size;
        var highestHigh = (uint)(_highest >> 32);
        var highestLow = (uint)_highest;
        uint high;
        if (highestLow >= window - 1)
        {
            // Case A: the window lies within one 2^32 subspace.
            var bottomLow = highestLow - (window - 1);
            if (low >= bottomLow)
            {
                high = highestHigh;
            }
            else if (highestHigh == uint.MaxValue)
            {
                return 0;
            }
            else
            {
                high = highestHigh + 1;
            }
        }
        else
        {
            // Case B: the window spans two subspaces.
            var bottomLow = unchecked(highestLow - (window - 1));
            if (low >= bottomLow)
            {
                if (highestHigh == 0)
                {
                    return 0;
                }

                high = highestHigh - 1;
            }
            else
            {
                high = highestHigh;
            }
        }

        return ((ulong)high << 32) | low;
    }

    /// <summary>RFC 4303 3.4.3: is <paramref name="sequenceNumber"/> new? Does not change the window.</summary>
    public ReplayCheck Check(ulong sequenceNumber)
    {
        if (sequenceNumber == 0)
        {
            return ReplayCheck.Invalid;
        }

        if (sequenceNumber > _highest)
        {
            return ReplayCheck.Ok;
        }

        if (_highest - sequenceNumber >= (ulong)Size)
        {
            return ReplayCheck.TooOld;
        }

        return (_words[(sequenceNumber >> 6) & _wordMask] & (1UL << (int)(sequenceNumber & 63))) != 0
            ? ReplayCheck.Duplicate
            : ReplayCheck.Ok;
    }

    /// <summary>Marks an authenticated <paramref name="sequenceNumber"/> as received, sliding the window right if it is new highest.</summary>
    public void Accept(ulong sequenceNumber)
    {
        if (sequenceNumber > _highest)
        {
            var current = _highest >> 6;
            var target = sequenceNumber >> 6;
            var clear = Math.Min(target - current, (ulong)_words.Length);
            for (ulong i = 1; i <= clear; i++)
            {
                _words[(current + i) & _wordMask] = 0;
            }

            _highest = sequenceNumber;
        }

        _words[(sequenceNumber >> 6) & _wordMask] |= 1UL << (int)(sequenceNumber & 63);
    }

    /// <summary>Check and, when new, accept: for callers that have already authenticated the packet.</summary>
    public ReplayCheck CheckAndAccept(ulong sequenceNumber)
    {
        var verdict = Check(sequenceNumber);
        if (verdict == ReplayCheck.Ok)
        {
            Accept(sequenceNumber);
        }

        return verdict;
    }
}
