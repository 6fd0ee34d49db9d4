using ExoBackup.Engine.IO;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace ExoBackup.Engine.Platform;

public enum StopOutcome { NotRunning, Stopped, Killed }
public enum StartOutcome { AlreadyRunning, Started, Ready }

/// <summary>
/// Finds, stops and starts the Tomcat process of a bundle. A zombie (state Z, a dead process whose
/// parent has not reaped it) counts as stopped: it holds no files and no ports.
/// </summary>
public static partial class PlatformProcess
{
    static readonly string[] StartupMarkers = ["Server startup in"];

    public static void Refresh(PlatformInfo p)
    {
        var pid = FindPid(p);
        p.Pid = pid;
        p.IsRunning = pid is not null;
    }

    /// <summary>The live Tomcat process of this bundle: the PID file's, if it is alive and is this bundle's; else a scan.</summary>
    public static int? FindPid(PlatformInfo p)
    {
        var fromFile = ReadPidFile(p.PidFile);
        if (fromFile is int pid && IsAlive(pid) && BelongsTo(pid, p.Home)) return pid;
        return ScanForCatalinaBase(p.Home);
    }

    internal static int? ReadPidFile(string file)
    {
        try { return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), out var pid) && pid > 0 ? pid : null; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>True when the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            var state = ProcState(pid);
            return state is not null && state != 'Z' && state != 'X';
        }
        try
        {
            using var proc = Process.GetProcessById(pid);
            return !proc.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>The state letter from /proc/pid/stat (after the parenthesised command name, which may hold blanks).</summary>
    internal static char? ProcState(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length ? stat[close + 2] : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    static string? CommandLine(int pid)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The result of stopping one of several platforms: how it stopped, or why it did not.</summary>
    public sealed record StopResult(PlatformInfo Platform, StopOutcome Outcome, ExoBackupException? Error);

    /// <summary>
    /// Stops several platforms (the nodes of a cluster) at once, each waited for in parallel: all must
    /// be down before a backup. Each one's failure is in its result; the others still stop.
    /// </summary>
    public static List<StopResult> StopAll(IReadOnlyList<PlatformInfo> platforms, TimeSpan timeout, bool force, IOperationLog log, CancellationToken ct) =>
        platforms.AsParallel().AsOrdered().WithDegreeOfParallelism(Math.Max(1, platforms.Count)).Select(p =>
        {
            try { return new StopResult(p, Stop(p, timeout, force, log, ct), null); }
            catch (ExoBackupException e) { return new StopResult(p, StopOutcome.NotRunning, e); }
        }).ToList();

    /// <summary>Guards against a reused PID: the process must be a JVM started with this catalina.base.</summary>
    static bool BelongsTo(int pid, string home)
    {
        var cmd = CommandLine(pid);
        if (cmd is null) return true; // cannot tell (Windows, or /proc hidden): trust the PID file
        return cmd.Contains("-Dcatalina.base=" + home + " ", StringComparison.Ordinal)
            || cmd.Contains("-Dcatalina.base=" + home + "/ ", StringComparison.Ordinal);
    }

    static int? ScanForCatalinaBase(string home)
    {
        if (!OperatingSystem.IsLinux()) return null;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            var cmd = CommandLine(pid);
            if (cmd is null || !cmd.Contains("org.apache.catalina.startup.Bootstrap", StringComparison.Ordinal)) continue;
            if (BelongsTo(pid, home) && IsAlive(pid)) return pid;
        }
        return null;
    }

    public static bool PortAnswers(string host, int port, int timeoutMs = 1000)
    {
        var target = host is "0.0.0.0" or "*" or "" ? "127.0.0.1" : host;
        using var cts = new CancellationTokenSource(timeoutMs);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (System.Net.IPAddress.TryParse(target, out var ip))
                socket.ConnectAsync(new System.Net.IPEndPoint(ip, port), cts.Token).AsTask().GetAwaiter().GetResult();
            else
                socket.ConnectAsync(target, port, cts.Token).AsTask().GetAwaiter().GetResult();
            return socket.Connected;
        }
        catch (SocketException) { return false; }
        catch (OperationCanceledException) { return false; }
    }

    public static StopOutcome Stop(PlatformInfo p, TimeSpan timeout, bool force, IOperationLog log, CancellationToken ct)
    {
        var pid = FindPid(p);
        if (pid is null)
        {
            log.Verbose($"eXo at {p.Home} is not running.");
            RemoveStalePidFile(p);
            Refresh(p);
            return StopOutcome.NotRunning;
        }

        var activity = $"Stopping eXo at {p.Home}";
        var requested = false;
        if (p.ShutdownPort is int sp && sp > 0)
        {
            try
            {
                using var client = new TcpClient();
                if (client.ConnectAsync(p.ShutdownAddress, sp).Wait(2000))
                {
                    var bytes = Encoding.ASCII.GetBytes(p.ShutdownCommand);
                    client.GetStream().Write(bytes);
                    client.GetStream().Flush();
                    requested = true;
                    log.Verbose($"Sent Tomcat's shutdown command to {p.ShutdownAddress}:{sp} (PID {pid}).");
                }
            }
            catch (Exception e) when (e is SocketException or AggregateException or IOException)
            {
                log.Verbose($"The shutdown port {p.ShutdownAddress}:{sp} did not take the command ({e.GetBaseException().Message}); sending SIGTERM instead.");
            }
        }
        if (!requested)
        {
            Terminate(pid.Value);
            log.Verbose($"Sent SIGTERM to PID {pid}.");
        }

        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            ct.ThrowIfCancellationRequested();
            if (!IsAlive(pid.Value) && !PortsOpen(p)) break;
            // A timeout is not a time left: no bar filling up to it, the timeout said as what it is.
            log.Progress(new ProgressUpdate(Math.Abs(p.Home.GetHashCode() % 100000) + 10, activity,
                $"waiting for PID {pid} to exit ({watch.Elapsed.TotalSeconds:0} s, giving up after {timeout.TotalSeconds:0} s)"));
            Thread.Sleep(250);
        }
        log.Progress(new ProgressUpdate(Math.Abs(p.Home.GetHashCode() % 100000) + 10, activity, "done", Completed: true));

        var outcome = StopOutcome.Stopped;
        if (IsAlive(pid.Value))
        {
            if (!force)
                throw Errors.StopTimeout(p.Home, pid, timeout);
            log.Warning($"eXo at {p.Home} (PID {pid}) did not stop within {timeout.TotalSeconds:0} s; killing it and its children.");
            KillTree(pid.Value);
            var killWatch = Stopwatch.StartNew();
            while (IsAlive(pid.Value) && killWatch.Elapsed < TimeSpan.FromSeconds(15)) Thread.Sleep(100);
            if (IsAlive(pid.Value))
                throw Errors.StopFailed(p.Home, pid);
            outcome = StopOutcome.Killed;
        }
        RemoveStalePidFile(p);
        Refresh(p);
        return outcome;
    }

    static bool PortsOpen(PlatformInfo p) =>
        (p.HttpPort is int h && h > 0 && PortAnswers("127.0.0.1", h, 200)) ||
        (p.ShutdownPort is int s && s > 0 && PortAnswers(p.ShutdownAddress, s, 200));

    /// <summary>catalina.sh refuses to start while the PID file names a live PID, and a zombie looks alive to kill -0.</summary>
    internal static void RemoveStalePidFile(PlatformInfo p)
    {
        if (ReadPidFile(p.PidFile) is int pid && (!IsAlive(pid) || !BelongsTo(pid, p.Home)) && MayRemove(p, p.PidFile))
        {
            try { File.Delete(p.PidFile); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// CATALINA_PID comes from setenv-customize.sh, which the eXo account writes, and may name any file
    /// holding a number (another service's PID file): as root, only a file that the bundle's owner owns,
    /// in a folder it owns, and that is no link, is removed (finding 2.8).
    /// </summary>
    static bool MayRemove(PlatformInfo p, string file)
    {
        if (!IO.FileStatReader.IsRoot) return true; // the caller removes only what it may anyway
        try
        {
            var owner = IO.FileStatReader.Get(p.Home).Uid;
            var st = IO.FileStatReader.Get(file);
            var folder = IO.FileStatReader.Get(Path.GetDirectoryName(Path.GetFullPath(file))!);
            return st.Type == IO.EntryType.File && st.Uid == owner && folder.Uid == owner;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    static void Terminate(int pid)
    {
        if (OperatingSystem.IsWindows())
        {
            using var proc = Process.GetProcessById(pid);
            proc.Kill(entireProcessTree: true);
            return;
        }
        _ = SysKill(pid, 15);
    }

    static void KillTree(int pid)
    {
        try
        {
            using var proc = Process.GetProcessById(pid);
            proc.Kill(entireProcessTree: true);
        }
        catch (ArgumentException) { }
        catch (InvalidOperationException) { }
        if (!OperatingSystem.IsWindows()) _ = SysKill(pid, 9);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);

    /// <summary>Starts eXo as the bundle's owner, or <paramref name="runAs"/> (see BundleAccount): never as root unless told.</summary>
    public static StartOutcome Start(PlatformInfo p, bool wait, TimeSpan timeout, IOperationLog log, CancellationToken ct, string? runAs = null)
    {
        Refresh(p);
        if (p.IsRunning)
        {
            log.Verbose($"eXo at {p.Home} is already running (PID {p.Pid}).");
            return StartOutcome.AlreadyRunning;
        }
        RemoveStalePidFile(p);
        if (p.HttpPort is int hp && hp > 0 && PortAnswers("127.0.0.1", hp, 300))
            throw Errors.PortInUse(p.Home, hp);
        if (!File.Exists(p.StartScript))
            throw Errors.StartScriptNotFound(p.StartScript);

        var account = BundleAccount.Resolve(p, runAs);
        var logs = new[] { Path.Combine(p.LogDir, "catalina.out"), Path.Combine(p.LogDir, "platform.log") };
        var offsets = logs.ToDictionary(f => f, f => File.Exists(f) ? new FileInfo(f).Length : 0L);

        var psi = OperatingSystem.IsWindows()
            ? new ProcessStartInfo("cmd.exe") { ArgumentList = { "/c", p.StartScript, "--background" } }
            : BundleAccount.As(account, "bash", p.StartScript, "--background");
        psi.WorkingDirectory = p.Home;
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = true;
        log.Verbose($"Running {p.StartScript} --background as {account?.ToString() ?? Environment.UserName}");
        using (var launcher = Process.Start(psi) ?? throw Errors.StartFailedLaunch(p.StartScript, p.Home))
        {
            launcher.StandardInput.Close();
            var output = launcher.StandardOutput.ReadToEndAsync(ct);
            var errors = launcher.StandardError.ReadToEndAsync(ct);
            if (!launcher.WaitForExit(60_000))
            {
                launcher.Kill(true);
                throw Errors.StartFailedTimeout(p.StartScript, p.Home);
            }
            if (launcher.ExitCode != 0)
                throw Errors.StartFailed($"{p.StartScript} --background exited with code {launcher.ExitCode}: {Tail(output.Result + errors.Result, 800)}", p.Home);
        }
        if (!wait)
        {
            Refresh(p);
            return StartOutcome.Started;
        }

        var activity = $"Starting eXo at {p.Home}";
        var id = Math.Abs(p.Home.GetHashCode() % 100000) + 20;
        var watch = Stopwatch.StartNew();
        var seenAlive = false;
        try
        {
            while (watch.Elapsed < timeout)
            {
                ct.ThrowIfCancellationRequested();
                if (StartupLogged(offsets))
                {
                    log.Verbose($"eXo at {p.Home} logged that its startup completed after {watch.Elapsed.TotalSeconds:0.0} s.");
                    Refresh(p);
                    return StartOutcome.Ready;
                }
                var pid = FindPid(p);
                if (pid is not null) seenAlive = true;
                if (pid is null && (seenAlive || watch.Elapsed > TimeSpan.FromSeconds(20)))
                    throw Errors.StartFailed($"eXo at {p.Home} exited during startup. Last lines of its log: {Tail(ReadNew(logs[0], offsets[logs[0]]), 1500)}", p.Home);
                log.Progress(new ProgressUpdate(id, activity, $"waiting for \"Server startup in\" ({watch.Elapsed.TotalSeconds:0} s, giving up after {timeout.TotalSeconds:0} s)"));
                Thread.Sleep(300);
            }
        }
        finally
        {
            log.Progress(new ProgressUpdate(id, activity, "done", Completed: true));
        }
        Refresh(p);
        throw Errors.StartTimeout(
            $"eXo at {p.Home} did not finish starting within {timeout.TotalSeconds:0} s (it is {(p.IsRunning ? "still starting, PID " + p.Pid : "not running")}).", p.Home);
    }

    static bool StartupLogged(Dictionary<string, long> offsets) =>
        offsets.Any(kv => StartupMarkers.Any(m => ReadNew(kv.Key, kv.Value).Contains(m, StringComparison.Ordinal)));

    static string ReadNew(string file, long offset)
    {
        try
        {
            if (!File.Exists(file)) return "";
            using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (fs.Length < offset) offset = 0; // rotated or truncated since
            fs.Seek(offset, SeekOrigin.Begin);
            using var reader = new StreamReader(fs);
            return reader.ReadToEnd();
        }
        catch (IOException) { return ""; }
    }

    static string Tail(string s, int max) => s.Length <= max ? s.Trim() : "…" + s[^max..].Trim();
}
