using System.Runtime.InteropServices;

namespace ExoBackup.Engine.Tools;

/// <summary>
/// What this process reads (database passwords, the codec key) must never land in a core file: a
/// crash, which a hostile settings file or repository makes easier to cause, would otherwise write
/// all of it to disk. The process is marked not dumpable and its core size limit set to 0 (children
/// inherit the limit). Linux only; elsewhere nothing to do.
/// </summary>
public static partial class ProcessHardening
{
    const int PR_SET_DUMPABLE = 4, PR_GET_DUMPABLE = 3, RLIMIT_CORE = 4;

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRlimit(int resource, in Rlimit limit);

    [StructLayout(LayoutKind.Sequential)]
    readonly struct Rlimit(ulong current, ulong max)
    {
        readonly ulong _current = current, _max = max;
    }

    public static void Apply()
    {
        if (!OperatingSystem.IsLinux()) return;
        SetRlimit(RLIMIT_CORE, new Rlimit(0, 0));
        Prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    }

    public static bool IsDumpable => OperatingSystem.IsLinux() && Prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1;
}
