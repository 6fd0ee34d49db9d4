using System.Diagnostics;
using ExoBackup.Engine.Platform;

namespace ExoBackup.Engine.Tests;

public class PlatformProcessTests
{
    [Fact]
    public void A_live_process_is_alive_and_an_exited_one_is_not()
    {
        Assert.True(PlatformProcess.IsAlive(Environment.ProcessId));
        using var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        p.WaitForExit();
        var pid = p.Id;
        p.Dispose();
        Assert.False(PlatformProcess.IsAlive(4194000));
    }

    [Fact]
    public void A_zombie_counts_as_stopped()
    {
        // perl forks a child that exits at once and never reaps it (perl installs no SIGCHLD handler): a zombie.
        using var parent = Process.Start(new ProcessStartInfo("perl", ["-e", "$| = 1; my $p = fork(); if ($p == 0) { exit 0 } print \"$p\\n\"; sleep 5"])
        { RedirectStandardOutput = true, UseShellExecute = false })!;
        var childPid = int.Parse(parent.StandardOutput.ReadLine()!);
        var deadline = DateTime.UtcNow.AddSeconds(3);
        while (PlatformProcess.ProcState(childPid) != 'Z' && DateTime.UtcNow < deadline) Thread.Sleep(20);
        try
        {
            Assert.Equal('Z', PlatformProcess.ProcState(childPid));
            Assert.False(PlatformProcess.IsAlive(childPid));
        }
        finally { parent.Kill(); }
    }

    [Fact]
    public void Port_answers_only_when_something_listens()
    {
        // The port stays bound by this socket throughout: while it does not listen, connections are
        // refused and no other test can take the port (a listener stopped then probed raced with them).
        using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        s.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var port = ((System.Net.IPEndPoint)s.LocalEndPoint!).Port;
        Assert.False(PlatformProcess.PortAnswers("127.0.0.1", port));
        s.Listen();
        Assert.True(PlatformProcess.PortAnswers("127.0.0.1", port));
    }
}

public class PidFileTests : IDisposable
{
    readonly TempDir _dir = new("exo-pidfile");
    public void Dispose() => _dir.Dispose();

    TestBundle? _bundle;

    PlatformInfo Bundle(string pidFile)
    {
        _bundle = new TestBundle(_dir).SetenvCustomize($"CATALINA_PID={pidFile}\n").Folder("temp");
        using (var chown = Process.Start(new ProcessStartInfo("chown", ["-R", "65534:65534", _bundle.Home]) { UseShellExecute = false })!) chown.WaitForExit();
        return _bundle.Discover();
    }

    [Fact]
    public void Root_removes_no_pid_file_that_the_bundle_owner_does_not_own()
    {
        // Finding 2.8: CATALINA_PID in the eXo account's setenv-customize.sh named another service's PID file, holding 1.
        if (!IO.FileStatReader.IsRoot) throw new InvalidOperationException("this test needs root (it changes owners)");
        var rootOnly = Directory.CreateDirectory(Path.Combine(_dir.Path, "root-only")).FullName;
        File.SetUnixFileMode(rootOnly, (UnixFileMode)0x1C0);
        var other = Path.Combine(rootOnly, "other-service.pid");
        File.WriteAllText(other, "1\n");
        PlatformProcess.RemoveStalePidFile(Bundle(other));
        Assert.True(File.Exists(other));

        // A stale PID file of eXo's own, in the bundle, owned by its account: still removed.
        var own = Path.Combine(_bundle!.Home, "temp", "catalina.pid");
        File.WriteAllText(own, "4194000\n");
        IO.FileStatReader.SetOwner(own, 65534, 65534);
        PlatformProcess.RemoveStalePidFile(_bundle.SetenvCustomize($"CATALINA_PID={own}\n").Discover());
        Assert.False(File.Exists(own));
    }
}
