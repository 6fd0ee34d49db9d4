using System.Runtime.InteropServices;
using ExoBackup.Engine.IO;

namespace ExoBackup.Engine.Tests;

/// <summary>
/// A tree far past PATH_MAX (4096), made through descriptors because no path of it fits: folders of
/// 255-byte names, each inside the one before, and a file at the bottom.
/// </summary>
internal static class DeepTree
{
    [DllImport("libc", SetLastError = true)] static extern int openat(int dirfd, string name, int flags, int mode);
    [DllImport("libc", SetLastError = true)] static extern int mkdirat(int dirfd, string name, int mode);
    [DllImport("libc", SetLastError = true)] static extern nint write(int fd, byte[] buffer, nint count);
    [DllImport("libc")] static extern int close(int fd);

    /// <summary>The name of the folder at <paramref name="level"/>: 255 bytes.</summary>
    public static string Name(int level) => $"level-{level:000}-".PadRight(255, 'x');

    /// <summary>
    /// Makes <paramref name="depth"/> folders (0755) below <paramref name="under"/> and the file
    /// <paramref name="file"/> (0644) with <paramref name="content"/> at the bottom; gives back the
    /// file's path relative to <paramref name="under"/>, with '/'.
    /// </summary>
    public static string Make(string under, int depth, string file, byte[] content)
    {
        var fd = openat(-100, under, NativeFlags.ReadOnly | NativeFlags.Directory, 0);
        Assert.True(fd >= 0, $"open '{under}': errno {Marshal.GetLastPInvokeError()}");
        for (var level = 0; level < depth; level++)
        {
            Assert.Equal(0, mkdirat(fd, Name(level), 0x1ED));
            var sub = openat(fd, Name(level), NativeFlags.ReadOnly | NativeFlags.Directory, 0);
            Assert.True(sub >= 0, $"openat level {level}: errno {Marshal.GetLastPInvokeError()}");
            close(fd);
            fd = sub;
        }
        var bottom = openat(fd, file, 0x1 | 0x40 | 0x80, 0x1A4); // O_WRONLY|O_CREAT|O_EXCL, 0644
        Assert.True(bottom >= 0);
        Assert.Equal(content.Length, (int)write(bottom, content, content.Length));
        close(bottom);
        close(fd);
        return string.Join("/", Enumerable.Range(0, depth).Select(Name)) + "/" + file;
    }
}
