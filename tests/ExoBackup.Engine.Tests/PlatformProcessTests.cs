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
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        Assert.True(PlatformProcess.PortAnswers("127.0.0.1", port));
        l.Stop();
        Assert.False(PlatformProcess.PortAnswers("127.0.0.1", port));
    }
}
