using ExoBackup.Engine.IO;
using System.Text;

namespace ExoBackup.Engine.Archive;

/// <summary>
/// Writes a POSIX pax tar stream that GNU tar, bsdtar and System.Formats.Tar read. A pax extended
/// header is added only where ustar cannot say it (long or non-ASCII names, sizes of 8 GiB and
/// more, owners beyond the octal range), so an archive of ordinary files is as small as GNU tar's.
/// The caller writes each file's data between WriteFileHeader and EndFile.
/// </summary>
public sealed class PaxTarWriter(Stream output)
{
    const int Block = 512;
    // The largest values ustar's octal fields hold (C# has no octal literals: 8^11-1 and 8^7-1).
    const long MaxOctal11 = 0x1FFFFFFFFL;
    const int MaxOctal7 = 0x1FFFFF;
    static readonly byte[] Zeros = new byte[Block * 2];
    readonly byte[] _header = new byte[Block];
    long _paxCount;

    public void WriteDirectory(string path, FileStat st) =>
        WriteHeader(path.EndsWith('/') ? path : path + "/", (byte)'5', st, 0, "");

    public void WriteSymlink(string path, string target, FileStat st) => WriteHeader(path, (byte)'2', st, 0, target);

    /// <summary>The header of a file whose <paramref name="size"/> bytes the caller writes next, then calls <see cref="EndFile"/>.</summary>
    public void WriteFileHeader(string path, FileStat st, long size) => WriteHeader(path, (byte)'0', st, size, "");

    public void EndFile(long size)
    {
        Pad(size);
    }

    public void Finish()
    {
        output.Write(Zeros, 0, Zeros.Length);
    }

    void Pad(long size)
    {
        var rest = (int)(size % Block);
        if (rest != 0) output.Write(Zeros, 0, Block - rest);
    }

    void WriteHeader(string path, byte typeFlag, FileStat st, long size, string linkName)
    {
        var pax = new List<(string Key, string Value)>();
        var (name, prefix) = SplitUstarName(path);
        if (name is null) pax.Add(("path", path));
        if (Encoding.UTF8.GetByteCount(linkName) > 100 || !IsAscii(linkName)) pax.Add(("linkpath", linkName));
        if (size > MaxOctal11) pax.Add(("size", size.ToString()));
        if (st.Uid is < 0 or > MaxOctal7) pax.Add(("uid", st.Uid.ToString()));
        if (st.Gid is < 0 or > MaxOctal7) pax.Add(("gid", st.Gid.ToString()));
        var mtimeSec = Math.Max(0, st.MtimeNs / 1_000_000_000);
        if (pax.Count > 0) WritePaxHeader(pax);

        Array.Clear(_header);
        var h = _header.AsSpan();
        if (name is not null)
        {
            Encoding.ASCII.GetBytes(name, h[..100]);
            Encoding.ASCII.GetBytes(prefix ?? "", h.Slice(345, 155));
        }
        else
        {
            var fallback = "PaxName." + _paxCount;
            Encoding.ASCII.GetBytes(fallback, h[..100]);
        }
        Octal(h.Slice(100, 8), st.Mode & 0xFFF);
        Octal(h.Slice(108, 8), Math.Clamp(st.Uid, 0, MaxOctal7));
        Octal(h.Slice(116, 8), Math.Clamp(st.Gid, 0, MaxOctal7));
        Octal(h.Slice(124, 12), size > MaxOctal11 ? 0 : size);
        Octal(h.Slice(136, 12), Math.Min(mtimeSec, MaxOctal11));
        h[156] = typeFlag;
        if (linkName.Length > 0 && IsAscii(linkName) && linkName.Length <= 100) Encoding.ASCII.GetBytes(linkName, h.Slice(157, 100));
        "ustar\0"u8.CopyTo(h.Slice(257, 6));
        "00"u8.CopyTo(h.Slice(263, 2));
        Checksum(h);
        output.Write(_header, 0, Block);
    }

    void WritePaxHeader(List<(string Key, string Value)> records)
    {
        var body = new StringBuilder();
        foreach (var (key, value) in records)
        {
            // "<len> <key>=<value>\n" where len counts itself.
            var rest = Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value) + 3;
            var len = rest + rest.ToString().Length;
            if (len.ToString().Length + rest != len) len++;
            body.Append(len).Append(' ').Append(key).Append('=').Append(value).Append('\n');
        }
        var data = Encoding.UTF8.GetBytes(body.ToString());
        Array.Clear(_header);
        var h = _header.AsSpan();
        Encoding.ASCII.GetBytes($"PaxHeaders/{_paxCount++}", h[..100]);
        Octal(h.Slice(100, 8), 0x1A4);
        Octal(h.Slice(108, 8), 0);
        Octal(h.Slice(116, 8), 0);
        Octal(h.Slice(124, 12), data.Length);
        Octal(h.Slice(136, 12), 0);
        h[156] = (byte)'x';
        "ustar\0"u8.CopyTo(h.Slice(257, 6));
        "00"u8.CopyTo(h.Slice(263, 2));
        Checksum(h);
        output.Write(_header, 0, Block);
        output.Write(data, 0, data.Length);
        Pad(data.Length);
    }

    /// <summary>Splits a path into ustar's name (≤100) and prefix (≤155) at a slash; null when it does not fit or is not ASCII.</summary>
    static (string? Name, string? Prefix) SplitUstarName(string path)
    {
        if (!IsAscii(path)) return (null, null);
        if (path.Length <= 100) return (path, null);
        if (path.Length > 256) return (null, null);
        for (var i = path.Length - 1; i > 0; i--)
        {
            if (path[i] != '/') continue;
            if (i <= 155 && path.Length - i - 1 <= 100 && path.Length - i - 1 > 0) return (path[(i + 1)..], path[..i]);
        }
        return (null, null);
    }

    static bool IsAscii(string s)
    {
        foreach (var c in s) if (c is < (char)0x20 or > (char)0x7e) return false;
        return true;
    }

    static void Octal(Span<byte> field, long value)
    {
        var digits = field.Length - 1;
        var s = Convert.ToString(value, 8).PadLeft(digits, '0');
        if (s.Length > digits) throw new ArgumentOutOfRangeException(nameof(value), value, "does not fit its tar header field");
        Encoding.ASCII.GetBytes(s.AsSpan(s.Length - digits), field);
        field[^1] = 0;
    }

    static void Checksum(Span<byte> h)
    {
        h.Slice(148, 8).Fill((byte)' ');
        var sum = 0;
        foreach (var b in h) sum += b;
        var s = Convert.ToString(sum, 8).PadLeft(6, '0');
        Encoding.ASCII.GetBytes(s, h.Slice(148, 6));
        h[154] = 0;
        h[155] = (byte)' ';
    }
}
