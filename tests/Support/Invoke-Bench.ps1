<#
.SYNOPSIS
build.ps1 Bench: ExoBackup measured against its baselines in the same call, as ratios.

.DESCRIPTION
Generates an eXo-like data dir (small files of mixed compressibility, plus large attachments),
then times, each against a baseline run right before or after it on the same warm tree:
  full backup         vs  tar -cf - . | zstd -T0 -3          (goal: ratio <= 1.0, size within 5 %)
  incremental, 1 %    vs  the full backup                    (goal: ratio <= 0.05)
  incremental, none   seconds                                (goal: seconds)
  restore             vs  zstd -dc | tar -xf -               (goal: ratio <= 1.0)
  peak memory of the pwsh that ran the full backup (VmHWM)
  PostgreSQL part     vs  pg_dump -Fc run by hand on the same database   (goal: ratio <= 1.05)
Each timed step runs -Runs times; the fastest run counts (machines here are noisy).
Every ExoBackup step runs in a fresh pwsh, so memory is that step's own.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDir,
    [int] $SmallFiles = 100000,
    [int] $MinKB = 1,
    [int] $MaxKB = 64,
    [int] $LargeFiles = 40,
    [int] $MaxLargeMB = 50,
    [int] $Runs = 2,
    [int] $DatabaseRows = 2000000,
    [switch] $SkipDatabase,
    [string] $WorkDir = (Join-Path ([System.IO.Path]::GetTempPath()) 'exobackup-bench'),
    [string] $ResultFile
)
$ErrorActionPreference = 'Stop'
$support = $PSScriptRoot
Import-Module "$support/TestHelpers.psm1" -Force
$ModuleDir = (Resolve-Path $ModuleDir).ProviderPath
$module = Join-Path $ModuleDir 'ExoBackup.psd1'
Remove-Item -Recurse -Force $WorkDir -ErrorAction Ignore
New-Item -ItemType Directory -Force $WorkDir | Out-Null

function Time([scriptblock] $Block) {
    $best = [double]::MaxValue
    for ($i = 0; $i -lt $Runs; $i++) {
        $w = [System.Diagnostics.Stopwatch]::StartNew(); & $Block; $w.Stop()
        $best = [Math]::Min($best, $w.Elapsed.TotalSeconds)
    }
    $best
}
function Invoke-Sh([string] $Command) {
    & /bin/bash -c $Command
    if ($LASTEXITCODE -ne 0) { throw "failed: $Command" }
}
# Runs ExoBackup in a fresh pwsh; prints the step's seconds (engine only) and the process's peak memory.
function Exo([string] $Script) {
    $r = Invoke-FreshPwsh @"
`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'SilentlyContinue'
Import-Module '$module'
`$w = [System.Diagnostics.Stopwatch]::StartNew()
$Script
`$w.Stop()
`$hwm = (Get-Content /proc/self/status | Where-Object { `$_ -like 'VmHWM:*' }) -replace '\D', ''
"RESULT `$(`$w.Elapsed.TotalSeconds) `$hwm"
"@
    $line = ($r.Output -split "`n" | Where-Object { $_ -like 'RESULT *' } | Select-Object -Last 1)
    if ($r.ExitCode -ne 0 -or -not $line) { throw "ExoBackup step failed: $($r.Output)" }
    $parts = $line.Trim().Split(' ')
    [pscustomobject]@{ Seconds = [double]$parts[1]; PeakMB = [math]::Round([double]$parts[2] / 1024) }
}
function Best([scriptblock] $Step) {
    $all = 1..$Runs | ForEach-Object { & $Step }
    [pscustomobject]@{ Seconds = ($all.Seconds | Measure-Object -Minimum).Minimum; PeakMB = ($all.PeakMB | Measure-Object -Maximum).Maximum }
}

Write-Host "Generating the tree: $SmallFiles files of $MinKB-$MaxKB KB and $LargeFiles files of 1-$MaxLargeMB MB"
$bundle = & "$support/New-ExoSampleBundle.ps1" -Path "$WorkDir/exo" -FileCount $SmallFiles -MinFileKB $MinKB -MaxFileKB $MaxKB -LargeFileCount 0
$rnd = [System.Random]::new(7)
New-Item -ItemType Directory -Force "$($bundle.DataDir)/files/large" | Out-Null
for ($i = 0; $i -lt $LargeFiles; $i++) { [ExoSample.FileFiller]::Large("$($bundle.DataDir)/files/large/attachment-$i.bin", $rnd.Next(1, $MaxLargeMB + 1), 500 + $i) }
$data = $bundle.DataDir
Remove-Item -Recurse -Force "$data/jcr/swap", "$data/jta"   # both tools then archive the same tree
$treeBytes = (Get-ChildItem $data -Recurse -File | Measure-Object Length -Sum).Sum
$fileCount = (Get-ChildItem $data -Recurse -File).Count
Invoke-Sh "tar -cf - -C '$data' . > /dev/null"   # warm the page cache for both

Write-Host 'Full backup vs tar | zstd -T0 -3'
$tarTime = Time { Invoke-Sh "tar -cf - -C '$data' . | zstd -q -T0 -3 -o '$WorkDir/baseline.tar.zst' -f" }
$tarSize = (Get-Item "$WorkDir/baseline.tar.zst").Length
$full = Best { Remove-Item -Recurse -Force "$WorkDir/repo" -ErrorAction Ignore; Exo "`$s = New-ExoSnapshot '$WorkDir/repo' '$($bundle.Home)'; `$null = `$s | Backup-ExoDataDir; `$null = `$s | Complete-ExoSnapshot" }
$snap = Get-ChildItem "$WorkDir/repo" -Directory | Select-Object -Last 1
$ourSize = (Get-Item "$($snap.FullName)/datadir.tar.zst").Length

Write-Host 'Incremental with nothing changed'
$none = Best { Exo "`$s = New-ExoSnapshot '$WorkDir/repo' '$($bundle.Home)' -Type Incremental; `$null = `$s | Backup-ExoDataDir; `$null = `$s | Remove-ExoSnapshot -Confirm:`$false" }

Write-Host 'Incremental after 1 % of the files changed'
$changed = Get-ChildItem "$data/jcr/values" -Recurse -File | Get-Random -Count ([int]($fileCount / 100)) -SetSeed 3
foreach ($f in $changed) { [System.IO.File]::AppendAllText($f.FullName, 'changed') }
$inc = Best { Exo "`$s = New-ExoSnapshot '$WorkDir/repo' '$($bundle.Home)' -Type Incremental; `$null = `$s | Backup-ExoDataDir; `$null = `$s | Remove-ExoSnapshot -Confirm:`$false" }

Write-Host 'Restore vs zstd -dc | tar -xf -'
$untarTime = Time { Remove-Item -Recurse -Force "$WorkDir/untar" -ErrorAction Ignore; New-Item -ItemType Directory "$WorkDir/untar" | Out-Null; Invoke-Sh "zstd -q -dc '$WorkDir/baseline.tar.zst' | tar -xf - -C '$WorkDir/untar'" }
$restore = Best { Remove-Item -Recurse -Force "$WorkDir/restored" -ErrorAction Ignore; Exo "`$null = Restore-ExoSnapshot -Repository '$WorkDir/repo' -Id '$($snap.Name)' -Component DataDir -DataDir '$WorkDir/restored' -Confirm:`$false" }

$pgRows = @()
if (-not $SkipDatabase -and (Get-ChildItem '/usr/lib/postgresql/*/bin/initdb' -ErrorAction Ignore)) {
    Write-Host "PostgreSQL part vs pg_dump -Fc by hand ($DatabaseRows rows)"
    Import-Module "$support/TestDatabases.psm1" -Force
    $pg = Start-TestPostgres -Root "$WorkDir/pg"
    try {
        Invoke-TestPostgresSql $pg 'CREATE DATABASE exo OWNER exo' | Out-Null
        Invoke-TestPostgresSql $pg "SET ROLE exo; CREATE TABLE soc_activities (id bigint PRIMARY KEY, title text, body text, posted timestamptz); INSERT INTO soc_activities SELECT g, 'activity ' || g, md5(g::text) || repeat(' eXo', 20), now() - g * interval '1 second' FROM generate_series(1, $DatabaseRows) g; CREATE TABLE jcr_item (id bigint PRIMARY KEY, data bytea); INSERT INTO jcr_item SELECT g, decode(md5(g::text), 'hex') FROM generate_series(1, $([int]($DatabaseRows / 4))) g;" -Database exo | Out-Null
        $pgBundle = & "$support/New-ExoSampleBundle.ps1" -Path "$WorkDir/pg-exo" -Database PostgreSql -DatabaseHost 127.0.0.1 -DatabasePort $pg.Port -DatabasePassword $pg.Password -FileCount 2 -LargeFileCount 0
        $pass = "$WorkDir/pgpass"; Set-Content $pass "127.0.0.1:$($pg.Port):exo:exo:$($pg.Password)"; chmod 600 $pass
        $pgDump = (Get-ChildItem '/usr/lib/postgresql/*/bin/pg_dump' | Sort-Object FullName | Select-Object -Last 1).FullName
        $byHand = Time { Invoke-Sh "PGPASSFILE='$pass' '$pgDump' -Fc --no-password -h 127.0.0.1 -p $($pg.Port) -U exo -f '$WorkDir/by-hand.dump' exo" }
        $part = Best { Remove-Item -Recurse -Force "$WorkDir/repo-pg" -ErrorAction Ignore; Exo "`$s = New-ExoSnapshot '$WorkDir/repo-pg' '$($pgBundle.Home)'; `$null = `$s | Backup-ExoDatabase" }
        $pgRows = @([pscustomobject]@{ Measure = "PostgreSQL part ($('{0:N0}' -f (Get-Item "$WorkDir/by-hand.dump").Length) B dump)"; ExoBackup = '{0:0.00} s' -f $part.Seconds; Baseline = '{0:0.00} s (pg_dump -Fc by hand)' -f $byHand; Ratio = '{0:0.00}' -f ($part.Seconds / $byHand); Goal = '<= 1.05' })

        Write-Host 'Backup-ExoPlatform (parts in parallel) vs the same parts one after another'
        $whole = & "$support/New-ExoSampleBundle.ps1" -Path "$WorkDir/whole" -Database PostgreSql -DatabaseHost 127.0.0.1 -DatabasePort $pg.Port -DatabasePassword $pg.Password `
            -FileCount ([int]($SmallFiles / 4)) -MinFileKB $MinKB -MaxFileKB $MaxKB -LargeFileCount 4 -LargeFileMB 32
        $sequential = Best { Remove-Item -Recurse -Force "$WorkDir/repo-seq" -ErrorAction Ignore; Exo "`$s = New-ExoSnapshot '$WorkDir/repo-seq' '$($whole.Home)'; `$null = `$s | Backup-ExoDataDir; `$null = `$s | Backup-ExoConfiguration; `$null = `$s | Backup-ExoDatabase; `$null = `$s | Complete-ExoSnapshot" }
        $parallel = Best { Remove-Item -Recurse -Force "$WorkDir/repo-par" -ErrorAction Ignore; Exo "`$null = Backup-ExoPlatform '$($whole.Home)' '$WorkDir/repo-par'" }
        $manifest = Get-Content (Get-ChildItem "$WorkDir/repo-par/*/manifest.json" | Select-Object -First 1) -Raw | ConvertFrom-Json
        $slowest = ($manifest.parts | ForEach-Object { ([datetimeoffset]$_.ended - [datetimeoffset]$_.started).TotalSeconds } | Measure-Object -Maximum).Maximum
        $pgRows += [pscustomobject]@{ Measure = 'Backup-ExoPlatform vs its slowest part'; ExoBackup = '{0:0.00} s' -f $parallel.Seconds; Baseline = '{0:0.00} s (slowest part, in that run)' -f $slowest; Ratio = '{0:0.00}' -f ($parallel.Seconds / $slowest); Goal = '<= 1.15' }
        $pgRows += [pscustomobject]@{ Measure = 'Backup-ExoPlatform vs the parts in turn'; ExoBackup = '{0:0.00} s' -f $parallel.Seconds; Baseline = '{0:0.00} s (New, each Backup-Exo*, Complete)' -f $sequential.Seconds; Ratio = '{0:0.00}' -f ($parallel.Seconds / $sequential.Seconds); Goal = '< 1.00' }
    }
    finally { Stop-TestPostgres $pg }
}

$rows = @(
    [pscustomobject]@{ Measure = 'full backup'; ExoBackup = '{0:0.00} s' -f $full.Seconds; Baseline = '{0:0.00} s (tar | zstd -T0 -3)' -f $tarTime; Ratio = '{0:0.00}' -f ($full.Seconds / $tarTime); Goal = '<= 1.00' }
    [pscustomobject]@{ Measure = 'archive size'; ExoBackup = '{0:N0} B' -f $ourSize; Baseline = '{0:N0} B' -f $tarSize; Ratio = '{0:0.000}' -f ($ourSize / $tarSize); Goal = '<= 1.05' }
    [pscustomobject]@{ Measure = 'incremental, 1 % changed'; ExoBackup = '{0:0.00} s' -f $inc.Seconds; Baseline = '{0:0.00} s (full)' -f $full.Seconds; Ratio = '{0:0.000}' -f ($inc.Seconds / $full.Seconds); Goal = '<= 0.05' }
    [pscustomobject]@{ Measure = 'incremental, nothing changed'; ExoBackup = '{0:0.00} s' -f $none.Seconds; Baseline = '-'; Ratio = '-'; Goal = 'seconds' }
    [pscustomobject]@{ Measure = 'restore'; ExoBackup = '{0:0.00} s' -f $restore.Seconds; Baseline = '{0:0.00} s (zstd -dc | tar -xf -)' -f $untarTime; Ratio = '{0:0.00}' -f ($restore.Seconds / $untarTime); Goal = '<= 1.00' }
    [pscustomobject]@{ Measure = 'peak memory (full backup)'; ExoBackup = "$($full.PeakMB) MiB"; Baseline = '-'; Ratio = '-'; Goal = 'bounded by file count' }
) + $pgRows
$header = "Tree: $('{0:N0}' -f $fileCount) files, $('{0:N1}' -f ($treeBytes / 1GB)) GiB; $([Environment]::ProcessorCount) cores; best of $Runs runs; $(Get-Date -Format 'yyyy-MM-dd')"
Write-Host $header
$table = $rows | Format-Table -AutoSize | Out-String
Write-Host $table
$md = @("| measure | ExoBackup | baseline | ratio | goal |", "| --- | --- | --- | --- | --- |") + ($rows | ForEach-Object { "| $($_.Measure) | $($_.ExoBackup) | $($_.Baseline) | $($_.Ratio) | $($_.Goal) |" })
$out = if ($ResultFile) { $ResultFile } else { Join-Path $ModuleDir '../bench.md' }
Set-Content $out (@($header, '') + $md)
Write-Host "Written to $out"
Remove-Item -Recurse -Force $WorkDir -ErrorAction Ignore
