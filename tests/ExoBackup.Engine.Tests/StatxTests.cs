using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.IO;

namespace ExoBackup.Engine.Tests;

/// <summary>FileStatReader through statx(2): the values coreutils' stat prints, and the device numbers the lstat of earlier versions stored.</summary>
public class StatxTests : IDisposable
{
    readonly TempDir _dir = new("exo-statx");
    public void Dispose() => _dir.Dispose();

    static string Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = p.StandardOutput.ReadToEnd();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {err}");
        return output.Trim();
    }

    /// <summary>A file, a folder and a link, the file made with the values the self-check makes its own with.</summary>
    List<string> Sample()
    {
        var file = Path.Combine(_dir.Path, "check.bin");
        using (var fs = File.Create(file)) fs.SetLength(StatX.CheckSize);
        File.SetUnixFileMode(file, (UnixFileMode)StatX.CheckMode);
        Run("touch", "-m", "-d", $"@{StatX.CheckMtimeNs / 1_000_000_000}.{StatX.CheckMtimeNs % 1_000_000_000:000000000}", file);
        var dir = Directory.CreateDirectory(Path.Combine(_dir.Path, "folder")).FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)0x3E8); // 01750: sticky bit kept in Mode
        var link = Path.Combine(_dir.Path, "link");
        File.CreateSymbolicLink(link, "check.bin");
        Run("touch", "-h", "-m", "-d", "@1600000000.5", link);
        return [file, dir, link];
    }

    static long Ns(string seconds) // "1700000000.123456789" as printed by %.9Y
    {
        var parts = seconds.Split('.');
        return long.Parse(parts[0]) * 1_000_000_000 + long.Parse(parts[1]);
    }

    [Fact]
    public void Statx_gives_what_coreutils_stat_prints()
    {
        foreach (var path in Sample().Append("/").Append("/dev/null").Append("/proc"))
        {
            // %f raw mode (hex), %a permissions (octal), owner, size, mtime and ctime to the ns, inode, device as glibc's makedev.
            var f = Run("stat", "-c", "%f %a %u %g %s %.9Y %.9Z %i %d", path).Split(' ');
            var st = FileStatReader.Get(path);
            var raw = Convert.ToInt32(f[0], 16);
            var type = (raw & 0xF000) switch { 0x8000 => EntryType.File, 0x4000 => EntryType.Directory, 0xA000 => EntryType.Symlink, _ => EntryType.Other };
            Assert.Equal(type, st.Type);
            Assert.Equal(Convert.ToInt32(f[1], 8), st.Mode);
            Assert.Equal(raw & 0xFFF, st.Mode);
            Assert.Equal(int.Parse(f[2]), st.Uid);
            Assert.Equal(int.Parse(f[3]), st.Gid);
            Assert.Equal(type == EntryType.File ? long.Parse(f[4]) : 0, st.Size);
            Assert.Equal(Ns(f[5]), st.MtimeNs);
            Assert.Equal(Ns(f[6]), st.CtimeNs);
            Assert.Equal(long.Parse(f[7]), st.Inode);
            Assert.Equal(long.Parse(f[8]), st.Device);
        }
        var check = FileStatReader.Get(Path.Combine(_dir.Path, "check.bin"));
        Assert.Equal((EntryType.File, StatX.CheckMode, StatX.CheckSize, StatX.CheckMtimeNs), (check.Type, check.Mode, check.Size, check.MtimeNs));
        Assert.Equal(0x3E8, FileStatReader.Get(Path.Combine(_dir.Path, "folder")).Mode);
        Assert.Equal(1_600_000_000_500_000_000, FileStatReader.Get(Path.Combine(_dir.Path, "link")).MtimeNs); // the link's own, not its target's
    }

    [Fact]
    public void A_missing_path_is_not_found_and_a_name_under_a_file_too()
    {
        Assert.Throws<FileNotFoundException>(() => FileStatReader.Get(Path.Combine(_dir.Path, "nope")));
        Assert.Null(FileStatReader.TryGet(Path.Combine(_dir.Path, "nope")));
        var file = _dir.Write("f", "x");
        Assert.Throws<FileNotFoundException>(() => FileStatReader.Get(Path.Combine(file, "under"))); // ENOTDIR
    }

    // What FileStatReader.Get read before statx: glibc's lstat, its struct stat read at fixed offsets per architecture.
    [DllImport("libc", EntryPoint = "lstat", SetLastError = true)]
    static extern int OldLStat(string path, [Out] byte[] buffer);

    static FileStat OldGet(string path)
    {
        var buf = new byte[256];
        Assert.Equal(0, OldLStat(path, buf));
        int I(int at) => BinaryPrimitives.ReadInt32LittleEndian(buf.AsSpan(at));
        long L(int at) => BinaryPrimitives.ReadInt64LittleEndian(buf.AsSpan(at));
        var x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;
        int mode = x64 ? I(24) : I(16), uid = x64 ? I(28) : I(24), gid = x64 ? I(32) : I(28);
        var type = (mode & 0xF000) switch { 0x8000 => EntryType.File, 0x4000 => EntryType.Directory, 0xA000 => EntryType.Symlink, _ => EntryType.Other };
        return new FileStat(type, mode & 0xFFF, uid, gid, type == EntryType.File ? L(48) : 0,
            L(88) * 1_000_000_000 + L(96), L(104) * 1_000_000_000 + L(112), L(8), L(0));
    }

    [Fact]
    public void Every_field_and_the_device_number_equal_what_the_old_lstat_stored()
    {
        // Indexes of earlier backups hold st_dev as glibc's dev_t: an unchanged file must still compare
        // unchanged (same size, mtime, ctime, inode and device) after the switch to statx.
        var paths = Sample().Concat(["/", "/proc", "/sys", "/dev", "/dev/null", "/dev/shm", Path.GetTempPath(), AppContext.BaseDirectory]).Where(p => File.Exists(p) || Directory.Exists(p) || new FileInfo(p).LinkTarget is not null);
        var devices = new HashSet<long>();
        foreach (var path in paths)
        {
            var old = OldGet(path);
            Assert.Equal(old, FileStatReader.Get(path));
            devices.Add(old.Device);
        }
        Assert.True(devices.Count >= 3, "the paths should span several devices");
    }

    [DllImport("libc", EntryPoint = "gnu_dev_makedev")]
    static extern ulong GlibcMakeDev(uint major, uint minor);

    [Fact]
    public void The_device_is_composed_as_glibc_makedev_does_for_any_major_and_minor()
    {
        // No device here has a minor past 255 or a major past 4095, where the encodings part ways
        // (restic's major<<8|minor would differ): compare with glibc's own makedev over the whole range.
        var rnd = new Random(11);
        uint[] edges = [0, 1, 7, 0xFF, 0x100, 0xFFF, 0x1000, 0xFFFFF, 0x100000, 0xFFFFFFFF];
        var pairs = edges.SelectMany(a => edges.Select(b => (a, b))).Concat(Enumerable.Range(0, 2000).Select(_ => ((uint)rnd.NextInt64(0, 1L << 32), (uint)rnd.NextInt64(0, 1L << 32))));
        foreach (var (major, minor) in pairs)
            Assert.Equal((long)GlibcMakeDev(major, minor), StatX.MakeDev(major, minor));
        Assert.Equal(65024, StatX.MakeDev(254, 0)); // the 254:0 that stat -c %d prints as 65024
    }
}

public class StatxSelfCheckTests
{
    static StatxBuffer Good() => new()
    {
        Mask = 0x7FF, Mode = (ushort)(0x8000 | StatX.CheckMode), Uid = 1000, Gid = 1000, Ino = 42, Size = (ulong)StatX.CheckSize,
        Mtime = new StatxTimestamp { Sec = StatX.CheckMtimeNs / 1_000_000_000, Nsec = (uint)(StatX.CheckMtimeNs % 1_000_000_000) },
        Ctime = new StatxTimestamp { Sec = 1_800_000_000 },
    };

    [Fact]
    public void The_self_check_passes_here_and_refuses_values_read_wrong()
    {
        Assert.Null(StatX.Unusable);
        Assert.Null(StatX.Verify(Good(), 1000));
        // What reading at the wrong offsets, or a kernel filling less, would look like: each is refused, naming what it saw.
        var swapped = Good(); (swapped.Mtime, swapped.Ctime) = (swapped.Ctime, swapped.Mtime);
        Assert.Contains("came back as", StatX.Verify(swapped, 1000));
        var shifted = Good(); shifted.Size = StatX.CheckSize << 32;
        Assert.Contains("came back as", StatX.Verify(shifted, 1000));
        Assert.Contains("came back as", StatX.Verify(Good(), 0)); // the owner is not who made it
        var partial = Good(); partial.Mask = 0x3; // type and mode only
        Assert.Contains("fields 0x3", StatX.Verify(partial, 1000));
        var e = Errors.StatUnusable(StatX.Verify(swapped, 1000)!);
        Assert.Equal("ExoBackup.StatUnusable", e.ErrorId);
        Assert.Contains("reads no file metadata rather than wrong metadata", e.Message);
    }
}
