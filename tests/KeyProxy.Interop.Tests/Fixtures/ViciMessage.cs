using System.Buffers.Binary;
using System.Text;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// One section of a vici message (strongSwan's versatile IKE control interface): an ordered list
/// of named entries, each a string value, a list of strings, or a nested section.
/// The root of a message is a section without a name.
/// </summary>
/// <remarks>
/// Wire encoding (strongSwan docs, "vici" README): a message is a sequence of elements, each
/// starting with a type byte: 1 SECTION_START (u8 name length, name), 2 SECTION_END,
/// 3 KEY_VALUE (u8 name length, name, u16 value length, value), 4 LIST_START (u8 name length,
/// name), 5 LIST_ITEM (u16 value length, value), 6 LIST_END. All lengths big-endian.
/// </remarks>
public sealed class ViciSection
{
    private readonly List<KeyValuePair<string, object>> _entries = [];

    public IReadOnlyList<KeyValuePair<string, object>> Entries => _entries;

    public ViciSection Add(string key, string value) { _entries.Add(new(key, value)); return this; }

    public ViciSection Add(string key, IEnumerable<string> list) { _entries.Add(new(key, list.ToList())); return this; }

    public ViciSection Add(string key, ViciSection section) { _entries.Add(new(key, section)); return this; }

    public object? this[string key] => _entries.FirstOrDefault(e => e.Key == key).Value;

    /// <summary>The string value of <paramref name="key"/>, or null when absent or not a string.</summary>
    public string? Value(string key) => this[key] as string;

    public IReadOnlyList<string> List(string key) => this[key] as List<string> ?? [];

    public ViciSection? Section(string key) => this[key] as ViciSection;

    /// <summary>Nested sections in order, with their names.</summary>
    public IEnumerable<KeyValuePair<string, ViciSection>> Sections =>
        _entries.Where(e => e.Value is ViciSection).Select(e => new KeyValuePair<string, ViciSection>(e.Key, (ViciSection)e.Value));

    public byte[] Encode()
    {
        var buffer = new List<byte>();
        EncodeInto(buffer);
        return [.. buffer];
    }

    internal void EncodeInto(List<byte> buffer)
    {
        foreach (var (key, value) in _entries)
        {
            switch (value)
            {
                case string s:
                    buffer.Add(ViciElement.KeyValue);
                    WriteName(buffer, key);
                    WriteValue(buffer, s);
                    break;
                case List<string> list:
                    buffer.Add(ViciElement.ListStart);
                    WriteName(buffer, key);
                    foreach (var item in list)
                    {
                        buffer.Add(ViciElement.ListItem);
                        WriteValue(buffer, item);
                    }
                    buffer.Add(ViciElement.ListEnd);
                    break;
                case ViciSection section:
                    buffer.Add(ViciElement.SectionStart);
                    WriteName(buffer, key);
                    section.EncodeInto(buffer);
                    buffer.Add(ViciElement.SectionEnd);
                    break;
            }
        }
    }

    private static void WriteName(List<byte> buffer, string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        if (bytes.Length > byte.MaxValue) throw new ArgumentException($"vici name too long: {name}");
        buffer.Add((byte)bytes.Length);
        buffer.AddRange(bytes);
    }

    private static void WriteValue(List<byte> buffer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length > ushort.MaxValue) throw new ArgumentException("vici value too long");
        buffer.Add((byte)(bytes.Length >> 8));
        buffer.Add((byte)bytes.Length);
        buffer.AddRange(bytes);
    }

    /// <summary>Decodes a complete message (the bytes after the packet type and event/command name).</summary>
    public static ViciSection Decode(ReadOnlySpan<byte> data)
    {
        var root = new ViciSection();
        var stack = new Stack<ViciSection>();
        stack.Push(root);
        List<string>? list = null;
        string? listName = null;
        int pos = 0;
        while (pos < data.Length)
        {
            byte type = data[pos++];
            switch (type)
            {
                case ViciElement.SectionStart:
                {
                    var name = ReadName(data, ref pos);
                    var section = new ViciSection();
                    stack.Peek().Add(name, section);
                    stack.Push(section);
                    break;
                }
                case ViciElement.SectionEnd:
                    if (stack.Count == 1) throw new FormatException("vici: unbalanced SECTION_END");
                    stack.Pop();
                    break;
                case ViciElement.KeyValue:
                {
                    var name = ReadName(data, ref pos);
                    stack.Peek().Add(name, ReadValue(data, ref pos));
                    break;
                }
                case ViciElement.ListStart:
                    if (list is not null) throw new FormatException("vici: nested list");
                    listName = ReadName(data, ref pos);
                    list = [];
                    break;
                case ViciElement.ListItem:
                    if (list is null) throw new FormatException("vici: LIST_ITEM outside list");
                    list.Add(ReadValue(data, ref pos));
                    break;
                case ViciElement.ListEnd:
                    if (list is null) throw new FormatException("vici: LIST_END outside list");
                    stack.Peek().Add(listName!, list);
                    list = null;
                    break;
                default:
                    throw new FormatException($"vici: unknown element type {type} at offset {pos - 1}");
            }
        }
        if (stack.Count != 1 || list is not null) throw new FormatException("vici: truncated message");
        return root;
    }

    private static string ReadName(ReadOnlySpan<byte> data, ref int pos)
    {
        if (pos >= data.Length) throw new FormatException("vici: truncated name");
        int len = data[pos++];
        if (pos + len > data.Length) throw new FormatException("vici: truncated name");
        var s = Encoding.UTF8.GetString(data.Slice(pos, len));
        pos += len;
        return s;
    }

    private static string ReadValue(ReadOnlySpan<byte> data, ref int pos)
    {
        if (pos + 2 > data.Length) throw new FormatException("vici: truncated value");
        int len = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(pos, 2));
        pos += 2;
        if (pos + len > data.Length) throw new FormatException("vici: truncated value");
        var s = Encoding.UTF8.GetString(data.Slice(pos, len));
        pos += len;
        return s;
    }

    /// <summary>Readable form in the style of <c>swanctl --raw</c>, for logs and failure messages.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Append(sb);
        return sb.ToString();
    }

    private void Append(StringBuilder sb)
    {
        sb.Append('{');
        bool first = true;
        foreach (var (key, value) in _entries)
        {
            if (!first) sb.Append(' ');
            first = false;
            sb.Append(key);
            switch (value)
            {
                case string s: sb.Append('=').Append(s); break;
                case List<string> l: sb.Append("=[").Append(string.Join(' ', l)).Append(']'); break;
                case ViciSection sec: sb.Append(' '); sec.Append(sb); break;
            }
        }
        sb.Append('}');
    }
}

internal static class ViciElement
{
    public const byte SectionStart = 1;
    public const byte SectionEnd = 2;
    public const byte KeyValue = 3;
    public const byte ListStart = 4;
    public const byte ListItem = 5;
    public const byte ListEnd = 6;
}
