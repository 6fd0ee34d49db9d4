using System.Management.Automation;
using ExoBackup.Engine;
using ExoBackup.Engine.Platform;

namespace ExoBackup.Commands;

/// <summary>Get-ExoPlatform: reads an eXo Tomcat bundle's settings and running state.</summary>
[Cmdlet(VerbsCommon.Get, "ExoPlatform")]
[OutputType(typeof(global::ExoBackup.Platform))]
public sealed class GetExoPlatformCommand : ExoCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Path", "Home", "FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    public string[] Platform { get; set; } = ["."];

    protected override void ProcessRecord()
    {
        foreach (var p in Platform)
        {
            var home = ResolvePath(p);
            if (!TryRunEngine((_, _) => PlatformDiscovery.Discover(home), out var info)) continue; // one bad path does not stop the others
            foreach (var note in info.Notes) WriteVerbose(note);
            WriteObject(global::ExoBackup.Platform.From(info));
        }
    }
}
