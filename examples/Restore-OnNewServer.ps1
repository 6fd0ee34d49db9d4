<#
.SYNOPSIS
Disaster recovery: restore the latest snapshot into the eXo bundle installed on a new server,
with the databases and chat on other hosts, then start eXo.

.EXAMPLE
./Restore-OnNewServer.ps1 -Repository /backup/exo -Platform /opt/exo -DatabaseServer db2:5432 -DatabaseCredential (Get-Credential postgres)
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $Repository,
    [Parameter(Mandatory)] [string] $Platform,
    [string] $DatabaseServer,
    [pscredential] $DatabaseCredential,
    [switch] $NoStart
)
$ErrorActionPreference = 'Stop'
Import-Module ExoBackup -ErrorAction SilentlyContinue

$latest = Get-ExoSnapshot -Repository $Repository -Latest
if (-not $latest) { throw "No complete snapshot in $Repository." }
if ((Get-ExoPlatform $Platform).IsRunning) { Stop-ExoPlatform $Platform -Timeout 120 }
$restore = @{ Platform = $Platform; Confirm = $false }
if ($DatabaseServer) { $restore.Server = $DatabaseServer }
if ($DatabaseCredential) { $restore.Credential = $DatabaseCredential }
$results = $latest | Restore-ExoSnapshot @restore
if (-not $NoStart -and $results) { Start-ExoPlatform $Platform -Wait -Timeout 900 }
$results
