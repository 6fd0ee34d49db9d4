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
    const int O_RDONLY = 0, AT_FDCWD = -100, AT_REMOVEDIR = 0x200;
    const int ENOENT = 2, ENOTDIR = 20, ELOOP = 40;
    static readonly int O_DIRECTORY = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;
    static readonly int O_NOFOLLOW = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;
    const int O_CLOEXEC = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true)]
    private static partial int OpenAt(int dirfd, byte* name, int flags);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true)]
    private static partial int UnlinkAt(int dirfd, byte* name, int flags);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkAtPath(int dirfd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "fdopendir", SetLastError = true)]
    private static partial nint FdOpenDir(int fd);

    [LibraryImport("libc", EntryPoint = "readdir64", SetLastError = true)]
    private static partial byte* ReadDir(nint dir);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int CloseDir(nint dir);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static partial int Dup(int fd);

    const int NameOffset = 19; // struct dirent64: d_ino 8, d_off 8, d_reclen 2, d_type 1, then d_name

    /// <summary>Deletes a file, a link (not what it points to), or a folder with everything in it. Nothing there: nothing to do.</summary>
    public static void Delete(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            if (Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null) Directory.Delete(path, true);
            else File.Delete(path);
            return;
        }
        var fd = Open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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
        finally { Close(fd); }
        if (UnlinkAtPath(AT_FDCWD, path, AT_REMOVEDIR) != 0 && Marshal.GetLastPInvokeError() != ENOENT) throw Failed("rmdir", path);
    }

    /// <summary>Empties the folder open as <paramref name="dirfd"/>; <paramref name="shown"/> only names it in errors.</summary>
    static void DeleteContents(int dirfd, string shown)
    {
        var names = new List<byte[]>();
        var listFd = Dup(dirfd);
        if (listFd < 0) throw Failed("dup", shown);
        var dir = FdOpenDir(listFd);
        if (dir == 0) { Close(listFd); throw Failed("fdopendir", shown); }
        try
        {
            for (var entry = ReadDir(dir); entry is not null; entry = ReadDir(dir))
            {
                var name = new ReadOnlySpan<byte>(entry + NameOffset, 256);
                name = name[..(name.IndexOf((byte)0) + 1)]; // with its NUL, ready for the system calls
                if (name is [(byte)'.', 0] or [(byte)'.', (byte)'.', 0]) continue;
                names.Add(name.ToArray());
            }
        }
        finally { CloseDir(dir); } // closes listFd
        foreach (var name in names)
            fixed (byte* n = name)
            {
                var sub = OpenAt(dirfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                {
                    var inner = $"{shown}/{RawDirectory.Escape(name.AsSpan(0, name.Length - 1))}";
                    try { DeleteContents(sub, inner); }
                    finally { Close(sub); }
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
