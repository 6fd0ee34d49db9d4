using System.Runtime.InteropServices;
using System.Text;

namespace ExoBackup.Engine.IO;

/// <summary>How opening a subfolder by its name ended.</summary>
public enum FolderOpen
{
    Opened,
    /// <summary>Nothing has the name.</summary>
    Missing,
    /// <summary>The name is a link: not followed, nothing opened.</summary>
    Link,
    /// <summary>The name is a file, FIFO, socket or device.</summary>
    NotAFolder,
}

/// <summary>How making a private folder ended.</summary>
public enum PrivateFolder
{
    /// <summary>Made 0700 and opened: a folder of this process's uid, empty, with no bits for others.</summary>
    Made,
    /// <summary>The name was taken already: nothing made.</summary>
    Exists,
    /// <summary>Made, but what the name held when it was opened right after is not that folder (replaced in between).</summary>
    Replaced,
}

/// <summary>
/// A folder open as a descriptor, to write a tree into it without ever resolving a path again:
/// entries are made relative to it (mkdirat, openat O_CREAT|O_EXCL|O_NOFOLLOW, symlinkat), looked at
/// (fstatat without following), renamed (renameat2 RENAME_NOREPLACE) and removed (unlinkat, through
/// TreeDeleter); a link's owner and time are set with fchownat/utimensat(AT_SYMLINK_NOFOLLOW), a
/// file's and a folder's on their own descriptor (fchown, fchmod, futimens). Subfolders are opened
/// from it with O_NOFOLLOW|O_DIRECTORY. Only the first folder is ever opened by a path (the
/// operator's, or one the bundle's settings name and the caller checked): a link the eXo account
/// puts in place of an entry below is never followed, and PATH_MAX does not bound the depth.
/// Where there are no descriptors (not Linux on x86_64 or aarch64), the same calls go by path.
/// </summary>
public sealed unsafe partial class WritableFolder : IDisposable
{
    const int ENOENT = 2, EEXIST = 17, EXDEV = 18, ENOTDIR = 20, EINVAL = 22, ENOSYS = 38, ELOOP = 40, EOPNOTSUPP = 95;
    const int AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200;
    const int O_WRONLY = 0x1, O_CREAT = 0x40, O_EXCL = 0x80;
    const uint RENAME_NOREPLACE = 1;
    /// <summary>0700: what a folder is made with until its own metadata is applied.</summary>
    public const int PrivateMode = 0x1C0;
    /// <summary>0777 less the umask: what mkdir -p (and .NET's CreateDirectory) gives the folders it makes.</summary>
    public const int DefaultFolderMode = 0x1FF;

    static readonly int OpenDirectory = NativeFlags.ReadOnly | NativeFlags.Directory | NativeFlags.NoFollow | NativeFlags.CloseOnExec;
    static readonly int CreateNew = O_WRONLY | O_CREAT | O_EXCL | NativeFlags.NoFollow | NativeFlags.CloseOnExec;
    static readonly int ReadSource = NativeFlags.ReadOnly | NativeFlags.NoFollow | NativeFlags.CloseOnExec | NativeFlags.NonBlock | NativeFlags.NoCtty;

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true)]
    private static partial int OpenAt(int dirfd, byte* name, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true)]
    private static partial int MkdirAt(int dirfd, byte* name, int mode);

    [LibraryImport("libc", EntryPoint = "symlinkat", SetLastError = true)]
    private static partial int SymlinkAt(byte* target, int dirfd, byte* name);

    [LibraryImport("libc", EntryPoint = "readlinkat", SetLastError = true)]
    private static partial nint ReadLinkAt(int dirfd, byte* name, byte* buffer, nint size);

    [LibraryImport("libc", EntryPoint = "fchownat", SetLastError = true)]
    private static partial int FChownAt(int dirfd, byte* name, int uid, int gid, int flags);

    [LibraryImport("libc", EntryPoint = "utimensat", SetLastError = true)]
    private static partial int UtimensAt(int dirfd, byte* name, long* times, int flags);

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    private static partial int FChown(int fd, int uid, int gid);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int FChmod(int fd, int mode);

    [LibraryImport("libc", EntryPoint = "futimens", SetLastError = true)]
    private static partial int FUtimens(int fd, long* times);

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    private static partial int RenameAt2(int olddirfd, byte* oldname, int newdirfd, byte* newname, uint flags);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true)]
    private static partial int UnlinkAt(int dirfd, byte* name, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(int fd);

    readonly DirectoryHandle? _dir; // null where there are no descriptors: Shown is then the path itself

    WritableFolder(DirectoryHandle? dir, string shown)
    {
        _dir = dir;
        Shown = shown;
    }

    /// <summary>The folder's path as reached (for messages; where there are no descriptors, the path the calls use).</summary>
    public string Shown { get; }

    static bool Native => FileStatReader.Native;

    /// <summary>The path an entry of this folder is shown as.</summary>
    public string PathOf(string name) => Path.Combine(Shown, name);

    public void Dispose() => _dir?.Dispose();

    /// <summary>
    /// The folder at <paramref name="path"/>, opened with O_DIRECTORY: the links in the path are followed,
    /// as the operator (or the settings the caller checked) gave it. Null when it does not exist.
    /// </summary>
    public static WritableFolder? TryOpenPath(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (!Native) return Directory.Exists(full) ? new WritableFolder(null, full) : null;
        var fd = NativeFlags.Open(full, NativeFlags.ReadOnly | NativeFlags.Directory | NativeFlags.CloseOnExec);
        if (fd >= 0) return new WritableFolder(new DirectoryHandle(fd), full);
        var errno = Marshal.GetLastPInvokeError();
        if (errno == ENOENT) return null;
        throw FileStatReader.Failed(errno, full, "open");
    }

    /// <summary>
    /// As <see cref="TryOpenPath"/>, making the missing folders first as mkdir -p does (0777 less the
    /// umask), each with mkdirat in the one above it and opened from it with O_NOFOLLOW right after.
    /// </summary>
    public static WritableFolder OpenPath(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (TryOpenPath(full) is { } folder) return folder;
        var parent = Path.GetDirectoryName(full) ?? throw new DirectoryNotFoundException($"'{full}' does not exist.");
        using var above = OpenPath(parent);
        return above.EnsureFolder(Path.GetFileName(full), DefaultFolderMode, out var how)
            ?? throw NotAFolder(above.PathOf(Path.GetFileName(full)), how);
    }

    internal static IOException NotAFolder(string shown, FolderOpen how) => new(how switch
    {
        FolderOpen.Link => $"'{shown}' is a link where a folder was expected: it is not followed.",
        FolderOpen.Missing => $"'{shown}' vanished as soon as it was made.",
        _ => $"'{shown}' is not a folder.",
    });

    DirectoryHandle.Lease Fd() => _dir!.Acquire();

    /// <summary>What the folder itself is (fstat).</summary>
    public FileStat Stat()
    {
        if (!Native) return FileStatReader.Get(Shown);
        using var lease = Fd();
        var errno = StatX.OfFd(lease.Fd, out var st);
        if (errno != 0) throw FileStatReader.Failed(errno, Shown, "fstat");
        return st;
    }

    /// <summary>What the entry <paramref name="name"/> is (fstatat, a link itself and not what it points to); null when nothing has the name.</summary>
    public FileStat? StatAt(string name)
    {
        if (!Native) return FileStatReader.TryGet(PathOf(name));
        using var lease = Fd();
        fixed (byte* n = RawDirectory.NulTerminated(name))
        {
            var errno = StatX.At(lease.Fd, n, out var st);
            if (errno == 0) return st;
            if (errno is ENOENT or ENOTDIR) return null;
            throw FileStatReader.Failed(errno, PathOf(name));
        }
    }

    /// <summary>The subfolder <paramref name="name"/>, opened O_NOFOLLOW|O_DIRECTORY from this one; null (and why in <paramref name="how"/>) when it is missing, a link or not a folder.</summary>
    public WritableFolder? OpenFolder(string name, out FolderOpen how)
    {
        var shown = PathOf(name);
        if (!Native)
        {
            how = new DirectoryInfo(shown) is { Exists: true } d ? d.LinkTarget is null ? FolderOpen.Opened : FolderOpen.Link
                : new FileInfo(shown) is { } f && (f.Exists || f.LinkTarget is not null) ? f.LinkTarget is null ? FolderOpen.NotAFolder : FolderOpen.Link
                : FolderOpen.Missing;
            return how == FolderOpen.Opened ? new WritableFolder(null, shown) : null;
        }
        int fd;
        using (var lease = Fd()) fixed (byte* n = RawDirectory.NulTerminated(name)) fd = OpenAt(lease.Fd, n, OpenDirectory, 0);
        if (fd >= 0)
        {
            how = FolderOpen.Opened;
            return new WritableFolder(new DirectoryHandle(fd), shown);
        }
        var errno = Marshal.GetLastPInvokeError();
        if (errno is not (ENOENT or ELOOP or ENOTDIR)) throw FileStatReader.Failed(errno, shown, "openat");
        // With O_DIRECTORY a link gives ENOTDIR as a file does: what the name is tells them apart.
        how = errno == ENOENT ? FolderOpen.Missing : StatAt(name) switch
        {
            null => FolderOpen.Missing,
            { Type: EntryType.Symlink } => FolderOpen.Link,
            _ => FolderOpen.NotAFolder,
        };
        return null;
    }

    /// <summary>mkdirat: makes the folder <paramref name="name"/> with <paramref name="mode"/> (less the umask); false when the name is taken.</summary>
    public bool MakeFolder(string name, int mode)
    {
        var shown = PathOf(name);
        if (!Native)
        {
            if (Directory.Exists(shown) || File.Exists(shown)) return false;
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(shown); else Directory.CreateDirectory(shown, (UnixFileMode)mode);
            return true;
        }
        using var lease = Fd();
        fixed (byte* n = RawDirectory.NulTerminated(name))
            if (MkdirAt(lease.Fd, n, mode) == 0) return true;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST) return false;
        throw new IOException($"mkdirat '{shown}' failed (errno {errno}).");
    }

    /// <summary>The subfolder <paramref name="name"/>, made first (with <paramref name="mode"/>) if nothing has the name; null, as <see cref="OpenFolder"/>, when it is a link or not a folder.</summary>
    public WritableFolder? EnsureFolder(string name, int mode, out FolderOpen how)
    {
        if (OpenFolder(name, out how) is { } folder) return folder;
        if (how != FolderOpen.Missing) return null;
        MakeFolder(name, mode);
        return OpenFolder(name, out how);
    }

    /// <summary>
    /// A new folder only this process's uid can enter: mkdirat 0700, then opened O_NOFOLLOW|O_DIRECTORY
    /// and checked (fstat: a folder of this uid, no bits for group or others, empty), so that what the
    /// caller writes into it goes into the folder just made even if the name is swapped for a link later.
    /// </summary>
    public PrivateFolder MakePrivateFolder(string name, out WritableFolder? folder, out FileStat made)
    {
        folder = null;
        made = default;
        if (!MakeFolder(name, PrivateMode)) return PrivateFolder.Exists;
        var opened = OpenFolder(name, out _);
        if (opened is null) return PrivateFolder.Replaced;
        var st = opened.Stat();
        if (st.Type != EntryType.Directory || (Native && st.Uid != FileStatReader.EffectiveUid) || (st.Mode & 0x3F) != 0 || !opened.IsEmpty())
        {
            opened.Dispose();
            return PrivateFolder.Replaced;
        }
        (folder, made) = (opened, st);
        return PrivateFolder.Made;
    }

    bool IsEmpty()
    {
        if (!Native) return !Directory.EnumerateFileSystemEntries(Shown).Any();
        using var lease = Fd();
        return RawDirectory.Names(lease.Fd).Count == 0;
    }

    /// <summary>
    /// Creates the file <paramref name="name"/> for writing: openat O_CREAT|O_EXCL|O_NOFOLLOW with
    /// <paramref name="mode"/> (less the umask), so it is this new file or nothing, never one reached
    /// through a link. Unbuffered. Throws IOException when the name is taken.
    /// </summary>
    public FileStream CreateFile(string name, int mode)
    {
        var shown = PathOf(name);
        if (!Native)
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = (UnixFileMode)(mode & 0x1FF);
            return new FileStream(shown, options);
        }
        int fd;
        using (var lease = Fd()) fixed (byte* n = RawDirectory.NulTerminated(name)) fd = OpenAt(lease.Fd, n, CreateNew, mode & 0x1FF);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw errno == EEXIST ? new IOException($"'{shown}' already exists.") : FileStatReader.Failed(errno, shown, "openat");
        }
        return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize: 0);
    }

    /// <summary>What an open file is (fstat of its descriptor).</summary>
    public static FileStat Stat(FileStream file, string shown) => Native ? TreeWalker.Stat(file.SafeFileHandle, shown) : FileStatReader.Get(file.Name);

    /// <summary>symlinkat: the link <paramref name="name"/> to <paramref name="target"/>.</summary>
    public void CreateLink(string name, string target)
    {
        var shown = PathOf(name);
        if (!Native) { File.CreateSymbolicLink(shown, target); return; }
        using var lease = Fd();
        fixed (byte* t = RawDirectory.NulTerminated(target))
        fixed (byte* n = RawDirectory.NulTerminated(name))
            if (SymlinkAt(t, lease.Fd, n) != 0)
                throw new IOException($"symlinkat '{shown}' failed (errno {Marshal.GetLastPInvokeError()}).");
    }

    /// <summary>The owner (as root only, as lchown did) and the mtime to the nanosecond of the entry <paramref name="name"/> itself, a link not followed: fchownat and utimensat with AT_SYMLINK_NOFOLLOW.</summary>
    public void SetOwnerAndTimeAt(string name, int uid, int gid, long mtimeNs)
    {
        var shown = PathOf(name);
        if (!Native)
        {
            FileStatReader.SetOwner(shown, uid, gid);
            FileStatReader.SetMtime(shown, mtimeNs, isDirectory: false);
            return;
        }
        using var lease = Fd();
        var times = stackalloc long[4];
        FileStatReader.MtimeOnly(mtimeNs, times);
        fixed (byte* n = RawDirectory.NulTerminated(name))
        {
            if (FileStatReader.IsRoot && FChownAt(lease.Fd, n, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
                throw new IOException($"fchownat '{shown}' to {uid}:{gid} failed (errno {Marshal.GetLastPInvokeError()}).");
            if (UtimensAt(lease.Fd, n, times, AT_SYMLINK_NOFOLLOW) != 0)
                throw new IOException($"utimensat '{shown}' failed (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    /// <summary>The folder's own owner (as root only), permission bits and mtime, on its descriptor.</summary>
    public void SetMetadata(int uid, int gid, int mode, long mtimeNs)
    {
        if (!Native)
        {
            FileStatReader.SetOwner(Shown, uid, gid);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Shown, (UnixFileMode)mode);
            FileStatReader.SetMtime(Shown, mtimeNs, isDirectory: true);
            return;
        }
        using var lease = Fd();
        SetMetadata(lease.Fd, Shown, uid, gid, mode, mtimeNs);
    }

    /// <summary>
    /// An open file's owner (as root only), permission bits and mtime, on its descriptor, once it is
    /// written. Where there are no descriptors the file is closed first and changed by its path.
    /// </summary>
    public static void SetMetadata(FileStream file, string shown, int uid, int gid, int mode, long mtimeNs)
    {
        if (!Native)
        {
            var path = file.Name;
            file.Dispose();
            FileStatReader.SetOwner(path, uid, gid);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)mode);
            FileStatReader.SetMtime(path, mtimeNs, isDirectory: false);
            return;
        }
        var handle = file.SafeFileHandle;
        var added = false;
        handle.DangerousAddRef(ref added);
        try { SetMetadata((int)handle.DangerousGetHandle(), shown, uid, gid, mode, mtimeNs); }
        finally { if (added) handle.DangerousRelease(); }
    }

    /// <summary>fchown (which clears setuid and setgid, so it comes first), fchmod, futimens.</summary>
    static void SetMetadata(int fd, string shown, int uid, int gid, int mode, long mtimeNs)
    {
        if (FileStatReader.IsRoot && FChown(fd, uid, gid) != 0)
            throw new IOException($"fchown '{shown}' to {uid}:{gid} failed (errno {Marshal.GetLastPInvokeError()}).");
        if (FChmod(fd, mode) != 0)
            throw new IOException($"fchmod '{shown}' failed (errno {Marshal.GetLastPInvokeError()}).");
        var times = stackalloc long[4];
        FileStatReader.MtimeOnly(mtimeNs, times);
        if (FUtimens(fd, times) != 0)
            throw new IOException($"futimens '{shown}' failed (errno {Marshal.GetLastPInvokeError()}).");
    }

    /// <summary>
    /// Gives the entry <paramref name="name"/> of this folder (whatever it is at that instant, a link
    /// as a link) the name <paramref name="toName"/> in <paramref name="to"/>, only if that name is
    /// free (renameat2 RENAME_NOREPLACE; where the file system lacks it, renameat after a look). False
    /// when nothing has the name; IOException when the new name is taken.
    /// </summary>
    public bool Rename(string name, WritableFolder to, string toName)
    {
        var (from, dest) = (PathOf(name), to.PathOf(toName));
        if (!Native)
        {
            if (!Directory.Exists(from) && !File.Exists(from) && new FileInfo(from).LinkTarget is null) return false;
            if (Directory.Exists(from) && new DirectoryInfo(from).LinkTarget is null) Directory.Move(from, dest); else File.Move(from, dest);
            return true;
        }
        using var lease = Fd();
        using var toLease = to.Fd();
        fixed (byte* n = RawDirectory.NulTerminated(name))
        fixed (byte* t = RawDirectory.NulTerminated(toName))
        {
            if (RenameAt2(lease.Fd, n, toLease.Fd, t, RENAME_NOREPLACE) == 0) return true;
            var errno = Marshal.GetLastPInvokeError();
            if (errno is EINVAL or ENOSYS or EOPNOTSUPP)
            {
                // No RENAME_NOREPLACE here: a look first, as File.Move and Directory.Move do.
                if (StatX.At(toLease.Fd, t, out _) == 0) errno = EEXIST;
                else if (RenameAt2(lease.Fd, n, toLease.Fd, t, 0) == 0) return true;
                else errno = Marshal.GetLastPInvokeError();
            }
            if (errno == ENOENT) return false;
            if (errno == EXDEV) return MoveAcross(lease.Fd, n, from, toLease.Fd, t, dest);
            throw new IOException(errno == EEXIST ? $"'{dest}' already exists: '{from}' is not moved there." : $"renameat '{from}' to '{dest}' failed (errno {errno}).");
        }
    }

    /// <summary>
    /// A move to another file system (a target that is a mount point): a file is copied through its
    /// descriptors (content, mode, owner, mtime) and a link made again, then the name removed, as
    /// File.Move does across devices. A folder is not moved so.
    /// </summary>
    static bool MoveAcross(int fromDir, byte* name, string from, int toDir, byte* toName, string dest)
    {
        if (StatX.At(fromDir, name, out var st) != 0) return false;
        if (st.Type == EntryType.Symlink)
        {
            var buffer = new byte[4097];
            nint length;
            fixed (byte* b = buffer) length = ReadLinkAt(fromDir, name, b, buffer.Length - 1);
            if (length < 0) throw new IOException($"readlinkat '{from}' failed (errno {Marshal.GetLastPInvokeError()}).");
            fixed (byte* b = buffer)
                if (SymlinkAt(b, toDir, toName) != 0) throw new IOException($"symlinkat '{dest}' failed (errno {Marshal.GetLastPInvokeError()}).");
            var times = stackalloc long[4];
            FileStatReader.MtimeOnly(st.MtimeNs, times);
            if ((FileStatReader.IsRoot && FChownAt(toDir, toName, st.Uid, st.Gid, AT_SYMLINK_NOFOLLOW) != 0) || UtimensAt(toDir, toName, times, AT_SYMLINK_NOFOLLOW) != 0)
                throw new IOException($"'{dest}': its owner or time could not be set (errno {Marshal.GetLastPInvokeError()}).");
        }
        else if (st.Type == EntryType.File)
        {
            var source = OpenAt(fromDir, name, ReadSource, 0);
            if (source < 0) throw FileStatReader.Failed(Marshal.GetLastPInvokeError(), from, "openat");
            using var input = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(source, ownsHandle: true), FileAccess.Read, bufferSize: 0);
            if (StatX.OfFd(source, out var now) != 0 || now.Type != EntryType.File) throw new IOException($"'{from}' changed while it was moved aside.");
            var fd = OpenAt(toDir, toName, CreateNew, 0x180);
            if (fd < 0) throw FileStatReader.Failed(Marshal.GetLastPInvokeError(), dest, "openat");
            using var output = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize: 0);
            input.CopyTo(output, 1 << 20);
            SetMetadata(fd, dest, now.Uid, now.Gid, now.Mode, now.MtimeNs);
        }
        else throw new IOException($"'{from}' cannot be moved to '{dest}', on another file system.");
        if (UnlinkAt(fromDir, name, 0) != 0) throw new IOException($"unlinkat '{from}' failed (errno {Marshal.GetLastPInvokeError()}).");
        return true;
    }

    /// <summary>
    /// Deletes the entry <paramref name="name"/>, a folder with all it holds, through descriptors; with
    /// <paramref name="expected"/>, only if it is that entry (device and inode). False when the name
    /// holds another entry, left as it is.
    /// </summary>
    public bool Delete(string name, FileStat? expected)
    {
        if (!Native)
        {
            if (expected is { } e && FileStatReader.TryGet(PathOf(name)) is { } st && !st.IsSameEntry(e)) return false;
            TreeDeleter.Delete(PathOf(name));
            return true;
        }
        using var lease = Fd();
        fixed (byte* n = RawDirectory.NulTerminated(name)) return TreeDeleter.DeleteAt(lease.Fd, n, PathOf(name), expected);
    }

    /// <summary>Deletes everything in this folder, through its descriptor, wherever it has been moved since it was opened.</summary>
    public void Empty()
    {
        if (!Native)
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(Shown)) TreeDeleter.Delete(entry);
            return;
        }
        using var lease = Fd();
        TreeDeleter.Empty(lease.Fd, Shown);
    }

    /// <summary>fsync of the folder: the entries made and renamed in it survive a power cut.</summary>
    public void Sync()
    {
        if (!Native) return;
        using var lease = Fd();
        if (Fsync(lease.Fd) != 0) throw new IOException($"Cannot fsync the folder '{Shown}' (errno {Marshal.GetLastPInvokeError()}).");
    }

    /// <summary>syncfs of the folder's file system: one call for a restored tree of a million files.</summary>
    public void SyncFileSystem()
    {
        if (!Native) return;
        using var lease = Fd();
        if (SyncFs(lease.Fd) != 0) throw new IOException($"Cannot sync the file system (syncfs) of '{Shown}' (errno {Marshal.GetLastPInvokeError()}).");
    }

    /// <summary>
    /// Whether the folder's file system ignores case: a probe file made in it (O_EXCL, an unguessable
    /// name) is looked up under its upper-case name, then removed. Null when no probe can be made here.
    /// </summary>
    public bool? IgnoresCase()
    {
        var probe = $".exobackup-case-probe-{Guid.NewGuid():N}";
        FileStream file;
        try { file = CreateFile(probe, 0x180); }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException) { return null; }
        try { return StatAt(probe.ToUpperInvariant()) is not null; }
        finally
        {
            file.Dispose();
            Delete(probe, null);
        }
    }
}

/// <summary>
/// The folders on the way to one entry below a root folder, each opened from the one above it
/// (O_NOFOLLOW|O_DIRECTORY) and kept open while the next entries share it: a tree in walk order
/// opens each folder once, whatever its depth. What is missing is made with <c>createMode</c> (or,
/// without it, the way ends there: null); a link or a file on the way throws the exception
/// <c>blocked</c> gives for its path, or an IOException.
/// </summary>
public sealed class FolderCursor(WritableFolder root, int? createMode, Func<string, FolderOpen, Exception?>? blocked = null) : IDisposable
{
    readonly List<(string Name, WritableFolder Folder)> _open = [];

    /// <summary>The folder that the first <paramref name="count"/> of <paramref name="parts"/> name below the root (the root itself for none).</summary>
    public WritableFolder? At(IReadOnlyList<string> parts, int count)
    {
        var shared = 0;
        while (shared < _open.Count && shared < count && _open[shared].Name == parts[shared]) shared++;
        Close(shared);
        var folder = shared == 0 ? root : _open[shared - 1].Folder;
        for (var i = shared; i < count; i++)
        {
            var next = createMode is int mode ? folder.EnsureFolder(parts[i], mode, out var how) : folder.OpenFolder(parts[i], out how);
            if (next is null)
            {
                if (how == FolderOpen.Missing && createMode is null) return null;
                var shown = folder.PathOf(parts[i]);
                throw blocked?.Invoke(shown, how) ?? WritableFolder.NotAFolder(shown, how);
            }
            _open.Add((parts[i], next));
            folder = next;
        }
        return folder;
    }

    void Close(int keep)
    {
        while (_open.Count > keep)
        {
            _open[^1].Folder.Dispose();
            _open.RemoveAt(_open.Count - 1);
        }
    }

    public void Dispose() => Close(0);
}
