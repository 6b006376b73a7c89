using System.Buffers.Binary;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>RFC 7296 1.2, 3.10.1: INVALID_KE_PAYLOAD carries the DH group the responder wants, as two bytes.</summary>
internal static class InvalidKePayload
{
    public static NotifyPayload Create(DhGroup wanted)
    {
        var data = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(data, (ushort)wanted);
        return new NotifyPayload(NotifyType.InvalidKePayload, data);
    }

    /// <summary>The group the peer asked for; <see cref="DhGroup.None"/> when the data is not two bytes.</summary>
    public static DhGroup WantedGroup(NotifyPayload notify) =>
        notify.Data.Length == 2 ? (DhGroup)BinaryPrimitives.ReadUInt16BigEndian(notify.Data.Span) : DhGroup.None;
}
