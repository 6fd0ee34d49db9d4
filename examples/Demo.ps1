<#
.SYNOPSIS
The README's first command: a backup and restore of the sample eXo bundle (embedded HSQLDB, a real
Tomcat 10). Generates the bundle, starts it, stops it, takes a full snapshot, changes and deletes
data, takes an incremental, damages the data dir, restores the latest snapshot and proves the
restored tree equals what was backed up. Cleans up after itself.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDir,
    [string] $WorkDir = (Join-Path ([System.IO.Path]::GetTempPath()) "exobackup-demo-$PID"),
    [switch] $Keep
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module (Join-Path $ModuleDir 'ExoBackup.psd1') -Force
Import-Module (Join-Path $PSScriptRoot '../tests/Support/TestHelpers.psm1') -Force
$support = Join-Path $PSScriptRoot '../tests/Support'
$watch = [System.Diagnostics.Stopwatch]::StartNew()
function Step([string] $Text) { Write-Host ("[{0,5:0.0}s] {1}" -f $watch.Elapsed.TotalSeconds, $Text) -ForegroundColor Cyan }
$repo = Join-Path $WorkDir 'backup'
$sample = $null
try {
    Step 'Generating a sample eXo bundle (embedded HSQLDB, 5,000 files, 4 attachments)'
    $sample = & "$support/New-ExoSampleBundle.ps1" -Path (Join-Path $WorkDir 'exo') -FileCount 5000 -LargeFileCount 4 -LargeFileMB 8
    $p = Get-ExoPlatform $sample.Home
    Step "Get-ExoPlatform: eXo $($p.Version), data dir $($p.DataDir), datasources $(($p.Datasources.Engine | Select-Object -Unique) -join ', ')"

    Step 'Start-ExoPlatform -Wait (a real Tomcat 10)'
    $p = Start-ExoPlatform $sample.Home -Wait -Timeout 120 -PassThru
    Step "eXo runs as PID $($p.Pid); http://127.0.0.1:$($p.HttpPort)/ answers $((Invoke-WebRequest "http://127.0.0.1:$($p.HttpPort)/").StatusCode)"

    Step 'Backup-ExoPlatform -StopPlatform: stop eXo, take every part in parallel, start eXo again'
    $full = Backup-ExoPlatform -Platform $sample.Home -Repository $repo -Type Full -StopPlatform
    $full.Parts | Format-Table | Out-Host
    Step "Full snapshot $($full.Id): $($full.Consistency); eXo was down $('{0:0.0}' -f $full.Downtime.TotalSeconds) s; eXo runs again: $((Get-ExoPlatform $sample.Home).IsRunning)"

    Step 'Users change data: 50 files edited, 20 deleted, 10 added'
    $files = Get-ChildItem "$($sample.DataDir)/jcr/values" -Recurse -File | Sort-Object FullName
    $files | Select-Object -First 50 | ForEach-Object { [System.IO.File]::AppendAllText($_.FullName, 'edited') }
    $files | Select-Object -Last 20 | Remove-Item -Force   # -Force: as root, PowerShell calls the eXo account's files read-only
    1..10 | ForEach-Object { Set-Content "$($sample.DataDir)/files/new-$_.txt" "new document $_" }
    # eXo writes its files as its own account: so do the users here (the demo runs as root).
    if (-not $IsWindows) { chown --reference="$($sample.DataDir)" (Get-ChildItem "$($sample.DataDir)/files/new-*.txt").FullName }

    Step 'Incremental snapshot, composed by hand this time: Stop, New, Backup-ExoDataDir, Backup-ExoConfiguration, Backup-ExoDatabase, Complete, Start'
    Stop-ExoPlatform $sample.Home
    $s = New-ExoSnapshot -Repository $repo -Platform $sample.Home -Type Incremental
    $inc = @($s | Backup-ExoDataDir)
    $null = $s | Backup-ExoConfiguration
    $null = $s | Backup-ExoDatabase   # the embedded HSQLDB: recorded as held in the data dir
    $incr = $s | Complete-ExoSnapshot
    Start-ExoPlatform $sample.Home -Wait -Timeout 120
    Step "Incremental $($incr.Id): $($inc[0].ChangedItems) files archived, $($inc[0].DeletedItems) deletions recorded, $('{0:N0}' -f $incr.SizeBytes) bytes"
    $expected = Get-TreeState $sample.DataDir -Exclude 'jcr/swap', 'jta'

    Step 'Disaster: the data dir is damaged'
    Stop-ExoPlatform $sample.Home
    Remove-Item -Recurse -Force "$($sample.DataDir)/jcr/index"
    Set-Content "$($sample.DataDir)/hsql/exo-plf.script" 'garbage'

    Step 'Test-ExoSnapshot -Level Archive, then Restore-ExoSnapshot of the latest snapshot'
    $latest = Get-ExoSnapshot $repo -Latest
    $tests = $latest | Test-ExoSnapshot -Level Archive
    if ($tests | Where-Object { -not $_.Passed }) { throw 'The snapshot failed its test' }
    $restored = @($latest | Restore-ExoSnapshot -Component DataDir -Confirm:$false)
    $restored | Format-Table | Out-Host
    $diff = Compare-TreeState $expected (Get-TreeState $sample.DataDir -Exclude 'jcr/swap', 'jta')
    if ($diff) { throw "The restored data dir differs: $($diff | Select-Object -First 5)" }
    Step "The restored data dir equals the backed-up one ($($expected.Count) paths, content, modes and times); the damaged one is kept at $($restored[0].PreviousDataKeptAt)"

    Start-ExoPlatform $sample.Home -Wait -Timeout 120
    Step 'eXo starts again on the restored data'

    Step 'Summary'
    Get-ExoSnapshot $repo | Format-Table Id, Type, Consistency, @{ n = 'Size'; e = { '{0:N1} MiB' -f ($_.SizeBytes / 1MB) } }, @{ n = 'Downtime'; e = { if ($_.Downtime) { '{0:0.0} s' -f $_.Downtime.TotalSeconds } } }, @{ n = 'Parts'; e = { $_.Parts.Component -join ', ' } } | Out-Host
}
finally {
    if ($sample) { try { Stop-ExoPlatform $sample.Home -Kill -Timeout 10 } catch { Write-Warning $_ } }
    if (-not $Keep) { Remove-Item -Recurse -Force $WorkDir -ErrorAction Ignore }
}
Step 'Demo done'
