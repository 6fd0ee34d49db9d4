using System.Runtime.InteropServices;

namespace ExoBackup.Engine.IO;

/// <summary>
/// Deletes a tree through directory handles. .NET's recursive delete lists a folder, then opens each
/// subfolder by its path: a folder that the eXo account (or a writer of the repository) swaps for a
/// link in between makes root delete the link target's contents. Here each folder is opened relative
/// to its parent with O_NOFOLLOW|O_DIRECTORY, so a link met anywhere is removed as a link, never
/// entered, and names are the kernel's bytes (any name, valid UTF-8 or not).
/// </summary>
public static unsafe partial class TreeDeleter
{
    const int AT_FDCWD = -100, AT_REMOVEDIR = 0x200;
    const int ENOENT = 2, ENOTDIR = 20, ELOOP = 40;
    static readonly int OpenFolder = NativeFlags.ReadOnly | NativeFlags.Directory | NativeFlags.NoFollow | NativeFlags.CloseOnExec;

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true)]
    private static partial int OpenAt(int dirfd, byte* name, int flags);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true)]
    private static partial int UnlinkAt(int dirfd, byte* name, int flags);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkAtPath(int dirfd, string path, int flags);


    /// <summary>Deletes a file, a link (not what it points to), or a folder with everything in it. Nothing there: nothing to do.</summary>
    public static void Delete(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            if (Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null) Directory.Delete(path, true);
            else File.Delete(path);
            return;
        }
        var fd = NativeFlags.Open(path, OpenFolder);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT) return;
            if (errno is ENOTDIR or ELOOP) // a file or a link: removed itself
            {
                if (UnlinkAtPath(AT_FDCWD, path, 0) != 0 && Marshal.GetLastPInvokeError() != ENOENT) throw Failed("unlink", path);
                return;
            }
            throw Failed("open", path, errno);
        }
        try { DeleteContents(fd, path); }
        finally { NativeFlags.Close(fd); }
        if (UnlinkAtPath(AT_FDCWD, path, AT_REMOVEDIR) != 0 && Marshal.GetLastPInvokeError() != ENOENT) throw Failed("rmdir", path);
    }

    /// <summary>
    /// Deletes the entry <paramref name="name"/> (NUL-terminated) of the folder open as <paramref name="dirfd"/>:
    /// a file, a link, or a folder with all it holds, reached through descriptors only. With
    /// <paramref name="expected"/>, only if it is that entry (device and inode): a folder is opened
    /// O_NOFOLLOW and fstat'ed before anything in it goes. False when the name holds another entry
    /// (left as it is); true when it is deleted or nothing has the name.
    /// </summary>
    internal static bool DeleteAt(int dirfd, byte* name, string shown, FileStat? expected)
    {
        var sub = OpenAt(dirfd, name, OpenFolder);
        if (sub < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT) return true;
            if (errno is not (ENOTDIR or ELOOP)) throw Failed("openat", shown, errno);
            if (expected is { } e && (StatX.At(dirfd, name, out var st) != 0 || !st.IsSameEntry(e))) return false;
            if (UnlinkAt(dirfd, name, 0) != 0 && Marshal.GetLastPInvokeError() != ENOENT) throw Failed("unlinkat", shown);
            return true;
        }
        try
        {
            if (expected is { } e && (StatX.OfFd(sub, out var st) != 0 || !st.IsSameEntry(e))) return false;
            DeleteContents(sub, shown);
        }
        finally { NativeFlags.Close(sub); }
        if (UnlinkAt(dirfd, name, AT_REMOVEDIR) != 0 && Marshal.GetLastPInvokeError() != ENOENT) throw Failed("rmdir", shown);
        return true;
    }

    /// <summary>Deletes everything in the folder open as <paramref name="dirfd"/>, which stays (wherever it is now).</summary>
    internal static void Empty(int dirfd, string shown) => DeleteContents(dirfd, shown);

    /// <summary>Empties the folder open as <paramref name="dirfd"/>; <paramref name="shown"/> only names it in errors.</summary>
    static void DeleteContents(int dirfd, string shown)
    {
        foreach (var name in RawDirectory.Names(dirfd))
            fixed (byte* n = name)
            {
                var sub = OpenAt(dirfd, n, OpenFolder);
                if (sub >= 0)
                {
                    var inner = $"{shown}/{RawDirectory.Escape(name.AsSpan(0, name.Length - 1))}";
                    try { DeleteContents(sub, inner); }
                    finally { NativeFlags.Close(sub); }
                    if (UnlinkAt(dirfd, n, AT_REMOVEDIR) != 0 && Marshal.GetLastPInvokeError() != ENOENT) throw Failed("rmdir", inner);
                    continue;
                }
                var errno = Marshal.GetLastPInvokeError();
                if (errno == ENOENT) continue;
                if (errno is not (ENOTDIR or ELOOP)) throw Failed("openat", $"{shown}/{RawDirectory.Escape(name.AsSpan(0, name.Length - 1))}", errno);
                // A file, or a link (to a folder, too): the name goes, whatever it points to stays.
                if (UnlinkAt(dirfd, n, 0) != 0 && Marshal.GetLastPInvokeError() != ENOENT)
                    throw Failed("unlinkat", $"{shown}/{RawDirectory.Escape(name.AsSpan(0, name.Length - 1))}");
            }
    }

    static IOException Failed(string call, string path, int? errno = null) =>
        new($"{call} '{path}' failed while deleting (errno {errno ?? Marshal.GetLastPInvokeError()}).");
}
