using System.Management.Automation;
using ExoBackup.Engine.Databases;

namespace ExoBackup.Commands;

/// <summary>Get-ExoDriver: shows each database driver the module uses, its version and where it was loaded from.</summary>
[Cmdlet(VerbsCommon.Get, "ExoDriver")]
[OutputType(typeof(DriverInfo))]
public sealed class GetExoDriverCommand : ExoCmdlet
{
    protected override void EndProcessing()
    {
        foreach (var d in RunEngine((_, _) => DriverInventory.Probe()))
            WriteObject(new DriverInfo
            {
                Name = d.Name,
                Assembly = d.Assembly,
                Version = d.Version,
                Loaded = d.Loaded,
                LoadContext = d.LoadContext,
                Location = d.Location,
                Error = d.Error,
            });
    }
}
