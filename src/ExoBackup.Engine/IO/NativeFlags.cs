using System.Runtime.InteropServices;

namespace ExoBackup.Engine.IO;

/// <summary>
/// open(2) flags whose values differ by architecture (x86_64 and the generic layout of arm64), and the
/// few descriptor calls the file-system layer shares. 0x10000 is O_DIRECTORY on x86_64 but O_DIRECT on arm64.
/// </summary>
internal static partial class NativeFlags
{
    static readonly bool Generic = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;
    public static readonly int Directory = Generic ? 0x4000 : 0x10000;
    public static readonly int NoFollow = Generic ? 0x8000 : 0x20000;
    public const int CloseOnExec = 0x80000, ReadOnly = 0;

    public const int NonBlock = 0x800;
    /// <summary>O_NOCTTY and O_PATH, the same on x86_64 and in the generic layout.</summary>
    public const int NoCtty = 0x100, PathOnly = 0x200000;
    const int F_DUPFD_CLOEXEC = 1030;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int arg);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);

    /// <summary>A second descriptor of <paramref name="fd"/>, close-on-exec: the tools started meanwhile inherit none.</summary>
    public static int Dup(int fd)
    {
        var copy = Fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (copy < 0) throw new IOException($"dup failed (errno {Marshal.GetLastPInvokeError()}).");
        return copy;
    }
}
