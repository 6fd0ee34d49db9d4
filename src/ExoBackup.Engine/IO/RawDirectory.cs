using System.Runtime.InteropServices;
using System.Text;

namespace ExoBackup.Engine.IO;

/// <summary>
/// A folder's entry names as the kernel gives them, bytes and all. .NET turns bytes that are not
/// UTF-8 into U+FFFD, and the mangled name names no file: without this, such files and whole folders
/// (Latin-1 names from old uploads) vanished from backups without a word.
/// </summary>
public static unsafe partial class RawDirectory
{
    [LibraryImport("libc", EntryPoint = "opendir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint OpenDir(string path);

    [LibraryImport("libc", EntryPoint = "fdopendir", SetLastError = true)]
    private static partial nint FdOpenDir(int fd);

    [LibraryImport("libc", EntryPoint = "readdir64", SetLastError = true)]
    private static partial byte* ReadDir(nint dir);

    [LibraryImport("libc", EntryPoint = "rewinddir")]
    private static partial void RewindDir(nint dir);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int CloseDir(nint dir);

    const int NameOffset = 19; // struct dirent64: d_ino 8, d_off 8, d_reclen 2, d_type 1, then d_name

    static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    /// <summary>The names in <paramref name="dir"/> that are not valid UTF-8, written with \xNN for each byte that is not ASCII.</summary>
    public static List<string> UndecodableNames(string dir)
    {
        var found = new List<string>();
        if (!OperatingSystem.IsLinux()) return found;
        var handle = OpenDir(dir);
        if (handle == 0) return found; // gone since it was listed, or unreadable: the walk reports that itself
        foreach (var name in ReadAll(handle))
        {
            try { Strict.GetCharCount(name.AsSpan(0, name.Length - 1)); }
            catch (DecoderFallbackException) { found.Add(Escape(name.AsSpan(0, name.Length - 1))); }
        }
        found.Sort(StringComparer.Ordinal);
        return found;
    }

    /// <summary>
    /// The names in the folder open as <paramref name="fd"/> (which stays open), each with its final
    /// NUL so it can go to openat/unlinkat as it is; "." and ".." left out. From the first entry, however
    /// often the folder was listed before: the copy of the descriptor shares its position.
    /// </summary>
    public static List<byte[]> Names(int fd)
    {
        var copy = NativeFlags.Dup(fd);
        var handle = FdOpenDir(copy);
        if (handle == 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            NativeFlags.Close(copy);
            throw new IOException($"fdopendir failed (errno {errno}).");
        }
        RewindDir(handle);
        return ReadAll(handle);
    }

    static List<byte[]> ReadAll(nint handle)
    {
        var names = new List<byte[]>();
        try
        {
            // readdir returns null at the end and on an error; only errno tells them apart.
            for (Marshal.SetLastPInvokeError(0); ReadDir(handle) is var entry && entry is not null; Marshal.SetLastPInvokeError(0))
            {
                var name = new ReadOnlySpan<byte>(entry + NameOffset, 256);
                name = name[..(name.IndexOf((byte)0) + 1)];
                if (name is [(byte)'.', 0] or [(byte)'.', (byte)'.', 0]) continue;
                names.Add(name.ToArray());
            }
            if (Marshal.GetLastPInvokeError() is var errno and not 0) throw new IOException($"readdir failed (errno {errno}): the listing would be short.");
        }
        finally { CloseDir(handle); }
        return names;
    }

    /// <summary>A name as the kernel takes it: its UTF-8 bytes and a final NUL.</summary>
    public static byte[] NulTerminated(string name)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(name) + 1];
        Encoding.UTF8.GetBytes(name, bytes);
        return bytes;
    }

    public static string Escape(ReadOnlySpan<byte> name)
    {
        var sb = new StringBuilder(name.Length * 2);
        foreach (var b in name)
        {
            if (b is >= 0x20 and < 0x7F && b != (byte)'\\') sb.Append((char)b);
            else sb.Append($"\\x{b:X2}");
        }
        return sb.ToString();
    }
}
