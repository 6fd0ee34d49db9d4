using System.Runtime.InteropServices;

namespace ExoBackup.Engine.IO;

public enum EntryType : byte { File = (byte)'f', Directory = (byte)'d', Symlink = (byte)'l', Other = (byte)'o' }

/// <summary>
/// What lstat says of a path (read with statx): type, permission bits, owner, size, mtime and ctime in nanoseconds, and
/// the inode and device that tell a file replaced under the same name (0 where the platform has none).
/// </summary>
public readonly record struct FileStat(EntryType Type, int Mode, int Uid, int Gid, long Size, long MtimeNs,
    long CtimeNs = 0, long Inode = 0, long Device = 0)
{
    /// <summary>Whether both describe the same file-system entry (device and inode), whatever changed in it since.</summary>
    public bool IsSameEntry(in FileStat other) => Device == other.Device && Inode == other.Inode;
}

/// <summary>
/// statx (not following links) and lchown through glibc, because .NET has no API for owners and
/// nanosecond times. struct statx has one layout on every architecture (see IO.StatX, which checks it
/// at first use); elsewhere FileSystemInfo is used (no owners, 100 ns times).
/// </summary>
public static unsafe partial class FileStatReader
{
    static readonly bool UseLibc = OperatingSystem.IsLinux() &&
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LChown(string path, int uid, int gid);

    [LibraryImport("libc", EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UtimensAt(int dirfd, string path, long* times, int flags);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial int GetEuid();

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);

    /// <summary>Whether metadata, owners and the descriptor-based walk go through glibc (Linux on x86_64 or aarch64).</summary>
    internal static bool Native => UseLibc;

    public static bool IsRoot => UseLibc && GetEuid() == 0;

    /// <summary>This process's effective uid (0 where there are no uids).</summary>
    public static int EffectiveUid => UseLibc ? GetEuid() : 0;

    /// <summary>
    /// Whether this process may read the file. Asks the kernel (access(2)) only when the mode does not
    /// already let everyone read, so the common 0644 file costs no system call; root without
    /// CAP_DAC_OVERRIDE, ACLs and owners are the kernel's business.
    /// </summary>
    public static bool CanRead(string path, in FileStat st)
    {
        if (!UseLibc || (st.Mode & 0x124) == 0x124) return true; // r--r--r--
        const int R_OK = 4;
        return Access(path, R_OK) == 0 || Marshal.GetLastPInvokeError() != 13; // only EACCES means "cannot read"
    }

    public static FileStat Get(string path)
    {
        if (UseLibc)
        {
            var errno = IO.StatX.OfPath(path, out var st);
            if (errno != 0) throw Failed(errno, path);
            return st;
        }
        var info = new FileInfo(path);
        FileSystemInfo fsi = info.Exists ? info : new DirectoryInfo(path);
        if (!fsi.Exists && fsi.LinkTarget is null) throw new FileNotFoundException($"'{path}' does not exist.", path);
        var t = fsi.LinkTarget is not null ? EntryType.Symlink : fsi is DirectoryInfo ? EntryType.Directory : EntryType.File;
        var m = OperatingSystem.IsWindows() ? (t == EntryType.Directory ? 0x1ED : 0x1A4) : (int)fsi.UnixFileMode;
        var ns = (fsi.LastWriteTimeUtc - DateTime.UnixEpoch).Ticks * 100;
        return new FileStat(t, m, 0, 0, t == EntryType.File ? info.Length : 0, ns);
    }

    /// <summary>The exception .NET would give for a failed stat or open of <paramref name="path"/>.</summary>
    internal static Exception Failed(int errno, string path, string call = "statx") => errno switch
    {
        2 or 20 => new FileNotFoundException($"'{path}' does not exist.", path),
        13 => new UnauthorizedAccessException($"Access to '{path}' is denied."),
        _ => new IOException($"{call} '{path}' failed (errno {errno})."),
    };

    /// <summary>What lstat says, or null when nothing has that name.</summary>
    public static FileStat? TryGet(string path)
    {
        try { return Get(path); }
        catch (FileNotFoundException) { return null; }
    }

    /// <summary>Sets the owner without following links; only root may, so others keep their own.</summary>
    public static void SetOwner(string path, int uid, int gid)
    {
        if (!UseLibc || !IsRoot) return;
        if (LChown(path, uid, gid) != 0)
            throw new IOException($"lchown '{path}' to {uid}:{gid} failed (errno {Marshal.GetLastPInvokeError()}).");
    }

    /// <summary>
    /// The two timespecs of utimensat/futimens (<paramref name="times"/>: 4 longs) that leave the atime
    /// as it is (UTIME_OMIT) and set the mtime to the nanosecond.
    /// </summary>
    internal static void MtimeOnly(long mtimeNs, long* times)
    {
        const long UTIME_OMIT = (1L << 30) - 2;
        times[0] = 0;
        times[1] = UTIME_OMIT;
        times[2] = Math.DivRem(mtimeNs, 1_000_000_000, out var ns);
        times[3] = ns;
        if (ns < 0) { times[2]--; times[3] = ns + 1_000_000_000; } // before 1970: tv_nsec stays in [0, 1e9)
    }

    public static DateTime ToDateTime(long mtimeNs) => DateTime.UnixEpoch.AddTicks(mtimeNs / 100);

    /// <summary>
    /// Sets the mtime to the nanosecond without following a link (utimensat with AT_SYMLINK_NOFOLLOW),
    /// so a restored link gets its own time and never its target's; the atime is left as it is.
    /// </summary>
    public static void SetMtime(string path, long mtimeNs, bool isDirectory)
    {
        if (!UseLibc)
        {
            if (isDirectory) Directory.SetLastWriteTimeUtc(path, ToDateTime(mtimeNs)); else File.SetLastWriteTimeUtc(path, ToDateTime(mtimeNs));
            return;
        }
        const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;
        var times = stackalloc long[4];
        MtimeOnly(mtimeNs, times);
        if (UtimensAt(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) != 0)
            throw new IOException($"utimensat '{path}' failed (errno {Marshal.GetLastPInvokeError()}).");
    }
}
