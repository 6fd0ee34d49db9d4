using System.Management.Automation;
using ExoBackup.Engine.Platform;

namespace ExoBackup.Commands;

/// <summary>Start-ExoPlatform: runs start_eXo.sh --background and, with -Wait, waits until eXo has started.</summary>
[Cmdlet(VerbsLifecycle.Start, "ExoPlatform", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(global::ExoBackup.Platform))]
public sealed class StartExoPlatformCommand : ExoCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Path", "Home", "FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    public string[] Platform { get; set; } = ["."];

    /// <summary>Wait until "Server startup in" is logged or the HTTP port answers.</summary>
    [Parameter] public SwitchParameter Wait { get; set; }

    /// <summary>Seconds to wait with -Wait.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int Timeout { get; set; } = 600;

    /// <summary>The account to run eXo as (a name or uid); the bundle's owner by default. As root, eXo never runs as root unless this says root.</summary>
    [Parameter] public string? RunAs { get; set; }

    [Parameter] public SwitchParameter PassThru { get; set; }

    // Cluster nodes start one after another (eXo's own advice), so each is handled as it arrives.
    protected override void ProcessRecord()
    {
        foreach (var p in Platform)
        {
            var home = ResolvePath(p);
            if (!TryRunEngine((_, _) => PlatformDiscovery.Discover(home), out var info)) continue; // one bad path does not stop the others
            if (!ShouldProcess(info.Home, info.IsRunning ? "Start eXo (already running)" : "Start eXo")) continue;
            var outcome = RunEngine((log, ct) => PlatformProcess.Start(info, Wait, TimeSpan.FromSeconds(Timeout), log, ct, RunAs));
            WriteVerbose($"{info.Home}: {outcome}.");
            if (PassThru) WriteObject(global::ExoBackup.Platform.From(info));
        }
    }
}
