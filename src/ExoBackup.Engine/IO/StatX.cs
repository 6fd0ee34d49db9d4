using System.Runtime.InteropServices;

namespace ExoBackup.Engine.IO;

/// <summary>struct statx_timestamp (linux/stat.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct StatxTimestamp
{
    public long Sec;
    public uint Nsec;
    int _reserved;
}

/// <summary>
/// struct statx (linux/stat.h, 256 bytes). Unlike struct stat, whose field order and widths differ
/// between x86_64 and aarch64, it has one layout on every architecture; the fields past the device
/// numbers (mount id, direct-I/O alignment, spares) are not read here.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 256)]
internal struct StatxBuffer
{
    public uint Mask, BlockSize;
    public ulong Attributes;
    public uint Nlink, Uid, Gid;
    public ushort Mode;
    ushort _spare0;
    public ulong Ino, Size, Blocks, AttributesMask;
    public StatxTimestamp Atime, Btime, Ctime, Mtime;
    public uint RdevMajor, RdevMinor, DevMajor, DevMinor;
}

/// <summary>
/// statx(2) without following a final link: by path (AT_FDCWD), by a name in a folder open as a
/// descriptor (as fstatat), and of an open descriptor (AT_EMPTY_PATH). Its first use checks, once per
/// process, that the kernel and glibc give back what a file just made has (mode, size, mtime, owner);
/// a mismatch stops with ExoBackup.StatUnusable instead of backing up metadata read at wrong offsets.
/// </summary>
internal static unsafe partial class StatX
{
    public const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;
    const uint STATX_TYPE = 0x1, STATX_MODE = 0x2, STATX_UID = 0x8, STATX_GID = 0x10, STATX_MTIME = 0x40,
        STATX_CTIME = 0x80, STATX_INO = 0x100, STATX_SIZE = 0x200, STATX_BASIC_STATS = 0x7FF;
    /// <summary>What FileStat needs; the kernel returns the basic set anyway (ask for it all, as stat does).</summary>
    const uint Needed = STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID | STATX_MTIME | STATX_CTIME | STATX_INO | STATX_SIZE;
    const int S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFLNK = 0xA000;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static partial int SysStatx(int dirfd, byte* path, int flags, uint mask, StatxBuffer* buffer);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysStatxPath(int dirfd, string path, int flags, uint mask, StatxBuffer* buffer);

    /// <summary>statx of <paramref name="path"/> itself (a link, not what it points to); 0 or the errno.</summary>
    public static int OfPath(string path, out FileStat st)
    {
        EnsureUsable();
        StatxBuffer b;
        if (SysStatxPath(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &b) != 0) { st = default; return Marshal.GetLastPInvokeError(); }
        return Convert(in b, out st);
    }

    /// <summary>statx of the name (NUL-terminated bytes) in the folder open as <paramref name="dirfd"/>, not following it; 0 or the errno.</summary>
    public static int At(int dirfd, byte* name, out FileStat st)
    {
        EnsureUsable();
        StatxBuffer b;
        if (SysStatx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &b) != 0) { st = default; return Marshal.GetLastPInvokeError(); }
        return Convert(in b, out st);
    }

    /// <summary>statx of what <paramref name="fd"/> is open on (fstat; an O_PATH descriptor of a link gives the link); 0 or the errno.</summary>
    public static int OfFd(int fd, out FileStat st)
    {
        EnsureUsable();
        StatxBuffer b;
        byte empty = 0;
        if (SysStatx(fd, &empty, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &b) != 0) { st = default; return Marshal.GetLastPInvokeError(); }
        return Convert(in b, out st);
    }

    /// <summary>
    /// glibc's makedev (gnu_dev_makedev): the dev_t that lstat gave, so device numbers kept in the
    /// indexes of earlier backups (st_dev) compare equal to those read with statx (major, minor).
    /// restic's major&lt;&lt;8|minor is not it: it differs once a minor passes 255.
    /// </summary>
    public static long MakeDev(uint major, uint minor) => (long)(
        ((ulong)(major & 0x00000FFFu) << 8) | ((ulong)(major & 0xFFFFF000u) << 32) |
        (minor & 0x000000FFu) | ((ulong)(minor & 0xFFFFFF00u) << 12));

    const int EIO = 5;

    static int Convert(in StatxBuffer b, out FileStat st)
    {
        // Without type and mode there is nothing to go on; a file system that gives no more than that
        // leaves the rest 0, as lstat did.
        if ((b.Mask & (STATX_TYPE | STATX_MODE)) != (STATX_TYPE | STATX_MODE)) { st = default; return EIO; }
        var type = (b.Mode & S_IFMT) switch
        {
            S_IFREG => EntryType.File,
            S_IFDIR => EntryType.Directory,
            S_IFLNK => EntryType.Symlink,
            _ => EntryType.Other,
        };
        st = new FileStat(type, b.Mode & 0xFFF, (int)b.Uid, (int)b.Gid, type == EntryType.File ? (long)b.Size : 0,
            b.Mtime.Sec * 1_000_000_000 + b.Mtime.Nsec, b.Ctime.Sec * 1_000_000_000 + b.Ctime.Nsec,
            (long)b.Ino, MakeDev(b.DevMajor, b.DevMinor));
        return 0;
    }

    // ---- The self-check at first use ----

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenCreate(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "unlink", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Unlink(string path);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int FChmod(int fd, int mode);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int FTruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "futimens", SetLastError = true)]
    private static partial int FUtimens(int fd, long* times);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    static readonly Lazy<string?> Problem = new(SelfCheck, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The values a file made with a known mode, size and mtime must come back with.</summary>
    internal const int CheckMode = 0x1A0; // 0640
    internal const long CheckSize = 12_345, CheckMtimeNs = 1_700_000_000L * 1_000_000_000 + 123_456_789;

    static void EnsureUsable()
    {
        if (Problem.Value is { } why) throw Errors.StatUnusable(why);
    }

    /// <summary>Null when statx gives back a file's known values; else what went wrong.</summary>
    static string? SelfCheck()
    {
        try
        {
            // The offsets of the fields read, against linux/stat.h.
            var layout = (sizeof(StatxBuffer), Off(nameof(StatxBuffer.Mode)), Off(nameof(StatxBuffer.Ino)), Off(nameof(StatxBuffer.Size)),
                Off(nameof(StatxBuffer.Ctime)), Off(nameof(StatxBuffer.Mtime)), Off(nameof(StatxBuffer.DevMajor)));
            if (layout != (256, 28, 32, 40, 96, 112, 136)) return $"the struct statx layout compiled here is {layout}, not (256, 28, 32, 40, 96, 112, 136)";

            // A file of no file system (memfd), so nothing is left behind; a temp file where memfd is refused.
            string? temp = null;
            var fd = MemfdCreate("exobackup-statx-check", 1 /* MFD_CLOEXEC */);
            if (fd < 0)
            {
                temp = Path.Combine(Path.GetTempPath(), $"exobackup-statx-check-{Environment.ProcessId}-{Guid.NewGuid():N}");
                fd = OpenCreate(temp, 0x2 | 0x40 | 0x80 | NativeFlags.CloseOnExec | NativeFlags.NoFollow, 0x180); // O_RDWR|O_CREAT|O_EXCL, 0600
                if (fd < 0) return $"no file could be made to check it (memfd_create and open '{temp}' failed, errno {Marshal.GetLastPInvokeError()})";
            }
            try
            {
                var times = stackalloc long[4] { 0, (1L << 30) - 2 /* UTIME_OMIT */, CheckMtimeNs / 1_000_000_000, CheckMtimeNs % 1_000_000_000 };
                if (FChmod(fd, CheckMode) != 0 || FTruncate(fd, CheckSize) != 0 || FUtimens(fd, times) != 0)
                    return $"the check file could not be set up (errno {Marshal.GetLastPInvokeError()})";
                StatxBuffer b;
                byte empty = 0;
                if (SysStatx(fd, &empty, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &b) != 0)
                    return $"statx failed on a file just made (errno {Marshal.GetLastPInvokeError()})";
                return Verify(in b, GetEuid());
            }
            finally
            {
                NativeFlags.Close(fd);
                if (temp is not null) Unlink(temp);
            }
        }
        catch (EntryPointNotFoundException) { return "this C library has no statx (glibc 2.28 or later has it)"; }

        static int Off(string field) => (int)Marshal.OffsetOf<StatxBuffer>(field);
    }

    /// <summary>Null when <paramref name="b"/> is what statx must say of the check file (made by <paramref name="euid"/>); else how it differs.</summary>
    internal static string? Verify(in StatxBuffer b, uint euid)
    {
        if ((b.Mask & Needed) != Needed) return $"it returned the fields 0x{b.Mask:X} where 0x{Needed:X} are needed";
        if (Convert(in b, out var st) != 0) return "it returned no type or mode";
        var expected = (EntryType.File, CheckMode, (int)euid, CheckSize, CheckMtimeNs);
        var got = (st.Type, st.Mode, st.Uid, st.Size, st.MtimeNs);
        if (got != expected || st.Inode == 0 || st.CtimeNs <= 0)
            return $"a file made with (type, mode, uid, size, mtime ns) = {expected} came back as {got}, inode {st.Inode}, ctime {st.CtimeNs}";
        return null;
    }

    /// <summary>Why statx is not used here, or null: the self-check's verdict (it runs at the first call).</summary>
    internal static string? Unusable => Problem.Value;
}
