<#
.SYNOPSIS
The README's first command: generates the sample eXo bundle (embedded HSQLDB, real Tomcat 10),
starts it, reads it, and stops it again. Cleans up after itself.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDir,
    [string] $WorkDir = (Join-Path ([System.IO.Path]::GetTempPath()) "exobackup-demo-$PID"),
    [switch] $Keep
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module (Join-Path $ModuleDir 'ExoBackup.psd1') -Force
$support = Join-Path $PSScriptRoot '../tests/Support'
$watch = [System.Diagnostics.Stopwatch]::StartNew()
function Step([string] $Text) { Write-Host ("[{0,5:0.0}s] {1}" -f $watch.Elapsed.TotalSeconds, $Text) -ForegroundColor Cyan }

try {
    Step 'Generating a sample eXo bundle (embedded HSQLDB, 2,000 files)'
    $sample = & "$support/New-ExoSampleBundle.ps1" -Path (Join-Path $WorkDir 'exo') -FileCount 2000 -LargeFileCount 2
    Step 'Get-ExoPlatform'
    Get-ExoPlatform $sample.Home | Format-List Home, Product, IsRunning, DataDir, Datasources, ShutdownPort, HttpPort | Out-Host

    Step 'Start-ExoPlatform -Wait (a real Tomcat 10)'
    $p = Start-ExoPlatform $sample.Home -Wait -Timeout 120 -PassThru
    Step "eXo runs as PID $($p.Pid); http://127.0.0.1:$($p.HttpPort)/ answers $((Invoke-WebRequest "http://127.0.0.1:$($p.HttpPort)/").StatusCode)"

    Step 'Stop-ExoPlatform (through the shutdown port)'
    $p = Stop-ExoPlatform $sample.Home -PassThru
    Step "Running: $($p.IsRunning)"
}
finally {
    if ($sample) { Stop-ExoPlatform $sample.Home -Force -Timeout 10 -ErrorAction Continue }
    if (-not $Keep) { Remove-Item -Recurse -Force $WorkDir -ErrorAction Ignore }
}
Step 'Demo done'
