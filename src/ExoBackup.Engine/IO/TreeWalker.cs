using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using Microsoft.Win32.SafeHandles;

namespace ExoBackup.Engine.IO;

/// <summary>
/// A folder open as a descriptor. The walk holds one for each folder on its current path; the items
/// listed from a folder keep a reference to it and open their file relative to it. It is closed when
/// the walk leaves the folder: an item used after that gets ObjectDisposedException, never a
/// descriptor number the process has since given to something else.
/// </summary>
public sealed class DirectoryHandle : SafeHandle
{
    internal DirectoryHandle(int fd) : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    protected override bool ReleaseHandle() => NativeFlags.Close((int)handle) == 0;

    /// <summary>The descriptor, kept open until the lease is disposed.</summary>
    internal Lease Acquire()
    {
        var added = false;
        DangerousAddRef(ref added);
        return new Lease(this, (int)DangerousGetHandle());
    }

    internal readonly ref struct Lease(DirectoryHandle owner, int fd)
    {
        public int Fd { get; } = fd;
        public void Dispose() => owner.DangerousRelease();
    }
}

/// <summary>One entry the walk found: its archive path, the path shown in messages, what statx said, and the folder and name to open it by.</summary>
public readonly record struct WalkItem(string Path, string FullPath, FileStat Stat, string? Link, DirectoryHandle Folder, byte[] Name);

/// <summary>How opening a listed file for reading ended.</summary>
public enum SourceOpen
{
    /// <summary>Open, and the same file (device and inode) the walk saw.</summary>
    Same,
    /// <summary>Open, a regular file, but not the one the walk saw: replaced under the same name since.</summary>
    Replaced,
    /// <summary>The name is a link now: not followed, nothing open.</summary>
    Link,
    /// <summary>The name is a folder, FIFO, socket or device now: nothing open.</summary>
    NotAFile,
    /// <summary>Nothing has the name any more.</summary>
    Gone,
}

/// <summary>
/// Walks a tree through folder descriptors, never by path: the root is opened once with
/// O_DIRECTORY|O_NOFOLLOW, each folder is listed from its descriptor (names as the kernel's bytes),
/// each name is statx'ed relative to it, subfolders are opened with openat(O_DIRECTORY|O_NOFOLLOW)
/// from their parent and files with openat(O_NOFOLLOW), then fstat'ed and compared with what the walk
/// saw. No path is resolved again between a check and a use, so a link the eXo account swaps in is
/// never followed; and no path is ever handed to the kernel whole, so PATH_MAX does not bound the depth.
/// The order is TreeScanner's: names in ordinal order, a folder's entries before its subfolders' and
/// each subfolder whole before the next (depth first); one descriptor is held per folder on the
/// current path.
/// </summary>
public static unsafe partial class TreeWalker
{
    const int ENOENT = 2, ENXIO = 6, EAGAIN = 11, EACCES = 13, ENOTDIR = 20, ELOOP = 40;
    /// <summary>Not an errno: the entry changed type while it was looked at.</summary>
    const int Changed = -1;
    const int R_OK = 4, POSIX_FADV_SEQUENTIAL = 2;
    static readonly int OpenFolder = NativeFlags.ReadOnly | NativeFlags.Directory | NativeFlags.NoFollow | NativeFlags.CloseOnExec;
    // O_NONBLOCK: a FIFO put in a file's place must not hang the backup in open(); O_NOCTTY: nor a
    // terminal become this process's. Neither changes how a regular file is read.
    static readonly int OpenSource = NativeFlags.ReadOnly | NativeFlags.NoFollow | NativeFlags.CloseOnExec | NativeFlags.NonBlock | NativeFlags.NoCtty;

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true)]
    private static partial int OpenAt(int dirfd, byte* name, int flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenPath(string path, int flags);

    [LibraryImport("libc", EntryPoint = "readlinkat", SetLastError = true)]
    private static partial nint ReadLinkAt(int dirfd, byte* name, byte* buffer, nint size);

    [LibraryImport("libc", EntryPoint = "faccessat", SetLastError = true)]
    private static partial int FAccessAt(int dirfd, byte* name, int mode, int flags);

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int FAdvise(SafeFileHandle fd, long offset, long length, int advice);

    const string Undecodable = "its name is not valid UTF-8 (shown with \\x escapes), which ExoBackup cannot yet back up byte for byte" +
        " (a folder: with all it holds); rename it to UTF-8 (convmv -f latin1 -t utf8), or use -SkipUnreadable to record it and go on";

    sealed class Frame(DirectoryHandle dir, string full, string rel)
    {
        public DirectoryHandle Dir { get; } = dir;
        public string Full { get; } = full;
        public string Rel { get; } = rel;
        public bool Listed;
        public int Next;
        public List<(byte[] Name, string Full, string Rel)> Subfolders { get; } = [];
    }

    /// <summary>
    /// Everything under <paramref name="root"/> (and, with <paramref name="includeRoot"/>, the root
    /// itself under <paramref name="prefix"/>). The root's own path is the operator's and is resolved
    /// as given, links in its parents included; its last component is not followed. What cannot be
    /// read goes to <paramref name="unreadable"/> with the path shown in messages; what vanished since
    /// it was listed is left out without a word, as before.
    /// </summary>
    public static IEnumerable<WalkItem> Walk(string root, string prefix, bool includeRoot, Func<string, bool> excluded,
        Action<string, Exception> unreadable, CancellationToken ct)
    {
        var absolute = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var parentPath = Path.GetDirectoryName(absolute);
        if (OpenParent(parentPath ?? "/", root, unreadable) is not { } parent) yield break;
        var frames = new Stack<Frame>();
        try
        {
            var rootName = RawDirectory.NulTerminated(parentPath is null ? "." : Path.GetFileName(absolute));
            var (st, link, failure) = Look(parent, rootName, root);
            if (failure is not null)
            {
                if (failure is not FileNotFoundException) unreadable(root, failure);
                yield break;
            }
            if (includeRoot) yield return new WalkItem(prefix, root, st, link, parent, rootName);
            if (st.Type != EntryType.Directory) yield break;
            if (OpenFolderAt(parent, rootName, root, unreadable) is not { } top) yield break;
            parent.Dispose(); // the root item, if any, was dealt with during its yield
            frames.Push(new Frame(top, root, prefix));
            while (frames.Count > 0)
            {
                ct.ThrowIfCancellationRequested();
                var frame = frames.Peek();
                if (!frame.Listed)
                {
                    frame.Listed = true;
                    foreach (var (name, raw) in List(frame, unreadable))
                    {
                        var path = frame.Rel.Length == 0 ? name : frame.Rel + "/" + name;
                        if (excluded(path)) continue;
                        var full = Path.Combine(frame.Full, name);
                        var (est, elink, efailure) = Look(frame.Dir, raw, full);
                        if (efailure is not null)
                        {
                            if (efailure is not FileNotFoundException) unreadable(full, efailure); // else deleted since it was listed
                            continue;
                        }
                        yield return new WalkItem(path, full, est, elink, frame.Dir, raw);
                        if (est.Type == EntryType.Directory) frame.Subfolders.Add((raw, full, path));
                    }
                }
                if (frame.Next < frame.Subfolders.Count)
                {
                    // A folder replaced by another folder since it was listed is still a folder of the
                    // tree, reached without a link: it is walked. A link or a file in its place is not.
                    var (name, full, rel) = frame.Subfolders[frame.Next++];
                    if (OpenFolderAt(frame.Dir, name, full, unreadable) is { } sub) frames.Push(new Frame(sub, full, rel));
                    continue;
                }
                frames.Pop().Dir.Dispose();
            }
        }
        finally
        {
            parent.Dispose();
            while (frames.Count > 0) frames.Pop().Dir.Dispose();
        }
    }

    /// <summary>The root's parent, O_PATH: it needs to be searchable only, as for the lstat of the root before.</summary>
    static DirectoryHandle? OpenParent(string path, string root, Action<string, Exception> unreadable)
    {
        var fd = OpenPath(path, NativeFlags.PathOnly | NativeFlags.Directory | NativeFlags.CloseOnExec);
        if (fd >= 0) return new DirectoryHandle(fd);
        var errno = Marshal.GetLastPInvokeError();
        if (errno is not (ENOENT or ENOTDIR)) unreadable(root, FileStatReader.Failed(errno, root, "open"));
        return null;
    }

    /// <summary>The folder's valid names in ordinal order (as .NET strings, so the order is the one of before); the others reported.</summary>
    static List<(string Name, byte[] Raw)> List(Frame frame, Action<string, Exception> unreadable)
    {
        List<byte[]> raw;
        try { using var lease = frame.Dir.Acquire(); raw = RawDirectory.Names(lease.Fd); }
        catch (IOException e) { unreadable(frame.Full, e); return []; }
        var names = new List<(string Name, byte[] Raw)>(raw.Count);
        List<string>? undecodable = null;
        foreach (var r in raw)
        {
            var bytes = r.AsSpan(0, r.Length - 1);
            if (Utf8.IsValid(bytes)) names.Add((Encoding.UTF8.GetString(bytes), r));
            else (undecodable ??= []).Add(RawDirectory.Escape(bytes));
        }
        // A name that is not UTF-8 cannot be kept byte for byte yet: it is reported by its bytes, so
        // without -SkipUnreadable the part fails rather than leaving it out unsaid.
        if (undecodable is not null)
        {
            undecodable.Sort(StringComparer.Ordinal);
            foreach (var u in undecodable) unreadable(Path.Combine(frame.Full, u), new IOException(Undecodable));
        }
        names.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return names;
    }

    /// <summary>openat(O_DIRECTORY|O_NOFOLLOW) of a listed folder from its parent; null (reported, unless it is gone) where that fails.</summary>
    static DirectoryHandle? OpenFolderAt(DirectoryHandle at, byte[] name, string shown, Action<string, Exception> unreadable)
    {
        int fd;
        using (var lease = at.Acquire()) fixed (byte* n = name) fd = OpenAt(lease.Fd, n, OpenFolder);
        if (fd >= 0) return new DirectoryHandle(fd);
        var errno = Marshal.GetLastPInvokeError();
        if (errno == ENOENT) return null; // deleted since it was listed
        unreadable(shown, errno is ELOOP or ENOTDIR
            ? new IOException($"'{shown}' was a folder when listed and is a link or a file now: it is not followed.")
            : FileStatReader.Failed(errno, shown, "openat"));
        return null;
    }

    /// <summary>
    /// statx of the name in the folder, and a link's target read from the very link that was stat'ed
    /// (opened O_PATH|O_NOFOLLOW, fstat'ed, readlinkat of that descriptor). An entry that changes type
    /// while it is looked at is looked at again, a few times.
    /// </summary>
    static (FileStat Stat, string? Link, Exception? Failure) Look(DirectoryHandle folder, byte[] name, string shown)
    {
        using var lease = folder.Acquire();
        fixed (byte* n = name)
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var errno = StatX.At(lease.Fd, n, out var st);
                if (errno != 0) return (default, null, FileStatReader.Failed(errno, shown));
                if (st.Type != EntryType.Symlink) return (st, null, null);
                errno = ReadLink(lease.Fd, n, ref st, out var link);
                if (errno == 0) return (st, link, null);
                if (errno != Changed) return (default, null, FileStatReader.Failed(errno, shown, "readlinkat"));
            }
        return (default, null, new IOException($"'{shown}' kept changing between a link and something else while it was listed."));
    }

    static int ReadLink(int dirfd, byte* name, ref FileStat st, out string? target)
    {
        target = null;
        var fd = OpenAt(dirfd, name, NativeFlags.PathOnly | NativeFlags.NoFollow | NativeFlags.CloseOnExec);
        if (fd < 0) return Marshal.GetLastPInvokeError();
        try
        {
            var errno = StatX.OfFd(fd, out var now);
            if (errno != 0) return errno;
            if (now.Type != EntryType.Symlink) return Changed;
            byte empty = 0;
            for (var size = 256; ; size *= 4)
            {
                var buffer = new byte[size];
                nint n;
                fixed (byte* b = buffer) n = ReadLinkAt(fd, &empty, b, size);
                if (n < 0) return Marshal.GetLastPInvokeError();
                if (n < size)
                {
                    // As .NET's LinkTarget: bytes that are not UTF-8 become U+FFFD (keeping them is later work).
                    target = Encoding.UTF8.GetString(buffer, 0, (int)n);
                    st = now;
                    return 0;
                }
            }
        }
        finally { NativeFlags.Close(fd); }
    }

    /// <summary>Tests only: runs with the shown path just before a listed file is opened, where a swap by the eXo account would land.</summary>
    internal static readonly AsyncLocal<Action<string>?> BeforeOpen = new();

    /// <summary>
    /// Opens the file the walk listed as <paramref name="name"/> in <paramref name="folder"/> for
    /// reading, relative to the folder's descriptor and without following a link, then compares the
    /// descriptor's device and inode with <paramref name="seen"/>. A link swapped in is never opened
    /// (ELOOP); a FIFO does not block. <paramref name="now"/> is what the open descriptor is (fstat).
    /// Throws UnauthorizedAccessException or IOException where the file cannot be opened.
    /// </summary>
    public static SourceOpen OpenFile(DirectoryHandle folder, byte[] name, string shown, in FileStat seen, out SafeFileHandle? file, out FileStat now)
    {
        file = null;
        now = default;
        BeforeOpen.Value?.Invoke(shown);
        int fd;
        using (var lease = folder.Acquire()) fixed (byte* n = name) fd = OpenAt(lease.Fd, n, OpenSource);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno switch
            {
                ENOENT => SourceOpen.Gone,
                ELOOP => SourceOpen.Link,
                ENXIO => SourceOpen.NotAFile, // a socket
                EAGAIN => throw new IOException($"'{shown}' is leased by another process (open would block)."),
                _ => throw FileStatReader.Failed(errno, shown, "openat"),
            };
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var statErrno = StatX.OfFd(fd, out now);
        if (statErrno != 0) { handle.Dispose(); throw new IOException($"fstat '{shown}' failed (errno {statErrno})."); }
        if (now.Type != EntryType.File) { handle.Dispose(); return SourceOpen.NotAFile; }
        _ = FAdvise(handle, 0, 0, POSIX_FADV_SEQUENTIAL);
        file = handle;
        return now.Inode == seen.Inode && now.Device == seen.Device ? SourceOpen.Same : SourceOpen.Replaced;
    }

    /// <summary>What the open file is now (fstat), to tell whether it changed while it was read.</summary>
    public static FileStat Stat(SafeFileHandle file, string shown)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            var errno = StatX.OfFd((int)file.DangerousGetHandle(), out var st);
            if (errno != 0) throw new IOException($"fstat '{shown}' failed (errno {errno}).");
            return st;
        }
        finally { if (added) file.DangerousRelease(); }
    }

    /// <summary>
    /// Whether this process may read the listed file: access(2) relative to its folder, asked only when
    /// the mode does not already let everyone read.
    /// </summary>
    public static bool CanRead(DirectoryHandle folder, byte[] name, in FileStat st)
    {
        if ((st.Mode & 0x124) == 0x124) return true; // r--r--r--
        using var lease = folder.Acquire();
        fixed (byte* n = name)
            return FAccessAt(lease.Fd, n, R_OK, 0) == 0 || Marshal.GetLastPInvokeError() != EACCES; // only EACCES means "cannot read"
    }
}
