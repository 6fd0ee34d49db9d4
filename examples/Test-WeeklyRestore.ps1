<#
.SYNOPSIS
Proof that backups work: restore the latest snapshot into scratch places and check it.

.DESCRIPTION
Every file-tree part is restored into a temporary folder, every database dump into a scratch
database on its own server, chat into a scratch database; all are compared with the manifest and
removed. A failure stops the script (exit code 1 under pwsh -File).

.EXAMPLE
./Test-WeeklyRestore.ps1 -Repository /backup/exo
#>
[CmdletBinding()]
param([Parameter(Mandatory)] [string] $Repository)
$ErrorActionPreference = 'Stop'
Import-Module ExoBackup -ErrorAction SilentlyContinue

Get-ExoSnapshot -Repository $Repository -Latest | Test-ExoSnapshot -Level Restore -ErrorAction Stop
