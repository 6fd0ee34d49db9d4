<#
.SYNOPSIS
Before an upgrade: a full snapshot, tested, with eXo left stopped for the upgrade.

.EXAMPLE
./Invoke-PreUpgradeBackup.ps1 -Platform /opt/exo -Repository /backup/exo
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $Platform,
    [Parameter(Mandatory)] [string] $Repository
)
$ErrorActionPreference = 'Stop'
Import-Module ExoBackup -ErrorAction SilentlyContinue

$snapshot = Backup-ExoPlatform -Platform $Platform -Repository $Repository -Type Full -StopPlatform -NoRestart
if ($snapshot) {
    # -ErrorAction Stop: a snapshot that fails its test stops the upgrade here.
    $null = $snapshot | Test-ExoSnapshot -Level Archive -ErrorAction Stop
    Write-Verbose "Snapshot $($snapshot.Id) is tested; eXo stays stopped for the upgrade."
}
$snapshot
