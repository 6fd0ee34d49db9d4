<#
.SYNOPSIS
Nightly backup: an incremental every night, a full once a week, then retention.

.DESCRIPTION
Copy this runbook and schedule it (cron, systemd timer, Task Scheduler). eXo is stopped only while
the parts are taken, in parallel, and started again even when a part fails. -WhatIf shows what it
would do and changes nothing.

.EXAMPLE
./Invoke-NightlyBackup.ps1 -Platform /opt/exo -Repository /backup/exo
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $Platform,
    [Parameter(Mandatory)] [string] $Repository,
    [System.DayOfWeek] $FullOn = 'Sunday',
    [int] $KeepDaily = 7,
    [int] $KeepWeekly = 4,
    [int] $KeepMonthly = 6,
    [datetime] $Today = (Get-Date)
)
$ErrorActionPreference = 'Stop'
Import-Module ExoBackup -ErrorAction SilentlyContinue   # or Import-Module <path>/ExoBackup.psd1

$haveFull = (Test-Path (Join-Path $Repository 'exobackup-repository.json')) -and (Get-ExoSnapshot $Repository -Type Full -Latest)
$type = if ($Today.DayOfWeek -eq $FullOn -or -not $haveFull) { 'Full' } else { 'Incremental' }
$snapshot = Backup-ExoPlatform -Platform $Platform -Repository $Repository -Type $type -StopPlatform
if ($snapshot) {
    # Retention, and the unfinished snapshots of killed runs older than a day (never one still being written).
    $removed = Remove-ExoSnapshot -Repository $Repository -KeepDaily $KeepDaily -KeepWeekly $KeepWeekly -KeepMonthly $KeepMonthly -IncompleteOlderThan 1 -Confirm:$false -PassThru
    Write-Verbose "Removed $(@($removed).Count) snapshot(s) by retention."
}
$snapshot
