<#
.SYNOPSIS
build.ps1 Bench: ExoBackup measured against its baselines and its peers in the same call, as ratios.

.DESCRIPTION
Generates an eXo-like data dir (small files of mixed compressibility, plus large attachments), then
runs on that one tree, each tool as a whole process (what a nightly job pays), in turns:
  ExoBackup   pwsh -NoProfile -NonInteractive -File of a script that imports the module and runs the
              step (the engine's own seconds inside that process are kept too)
  tar         tar -g (GNU listed-incremental) | zstd -T0 -3, restored by zstd -dc | tar -g /dev/null -x
              of each archive in turn
  restic      restic init (repository version 2), backup (compression auto), restore latest --target;
              restic always encrypts (AES-256-CTR + Poly1305), RESTIC_PASSWORD
  borg        borg init -e <-BorgEncryption> (none by default: ExoBackup does not encrypt yet),
              create --compression zstd,3, extract; BORG_PASSPHRASE
and the steps: full backup, incremental with nothing changed, incremental after 1 % of the files
changed, restore of the latest (the third backup: each restores its chain), the repository's size
after the full and after the three backups, the peak memory of each full backup.
Each step runs -Runs times, each tool in turn, after a sync; the fastest run counts (machines here
are noisy). Between runs an incremental is removed again (Remove-ExoSnapshot, restic forget
--prune, borg delete + compact; untimed) so that every run starts from the same repository; the
last run's backup is kept, so the next step and the restore find three backups.
Goals (ExoBackup's whole process):
  full backup         vs  tar | zstd                          (goal: ratio <= 1.0, size within 5 %)
  incremental, 1 %    vs  the full backup                     (goal: ratio <= 0.05)
  incremental, none   seconds per 100,000 files               (goal: < 1 s)
  restore             vs  zstd -dc | tar -x                   (goal: ratio <= 1.0)
  every step          vs  restic and borg                     (goal: ratio < 1.0)
  PostgreSQL part     vs  pg_dump -Fc run by hand on the same database   (goal: ratio <= 1.05)
Peak memory comes from GNU time (/usr/bin/time) where it is installed.
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
    # borg's encryption: none (like ExoBackup today) or repokey (like restic, which always encrypts).
    [ValidateSet('none', 'repokey', 'repokey-blake2', 'authenticated')] [string] $BorgEncryption = 'none',
    [string] $WorkDir = (Join-Path ([System.IO.Path]::GetTempPath()) 'exobackup-bench'),
    [string] $ResultFile
)
$ErrorActionPreference = 'Stop'
$support = $PSScriptRoot
Import-Module "$support/TestHelpers.psm1" -Force
$ModuleDir = (Resolve-Path $ModuleDir).ProviderPath
$module = Join-Path $ModuleDir 'ExoBackup.psd1'
if (Test-Path $WorkDir) { & rm -rf -- $WorkDir }
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
    $r = Invoke-FreshPwsh (Step $Script)
    $line = ($r.Output -split "`n" | Where-Object { $_ -like 'RESULT *' } | Select-Object -Last 1)
    if ($r.ExitCode -ne 0 -or -not $line) { throw "ExoBackup step failed: $($r.Output)" }
    $parts = $line.Trim().Split(' ')
    [pscustomobject]@{ Seconds = [double]$parts[1]; PeakMB = [math]::Round([double]$parts[2] / 1024) }
}
function Best([scriptblock] $Step) {
    $all = 1..$Runs | ForEach-Object { & $Step }
    [pscustomobject]@{ Seconds = ($all.Seconds | Measure-Object -Minimum).Minimum; PeakMB = ($all.PeakMB | Measure-Object -Maximum).Maximum }
}

# --- Whole processes ---------------------------------------------------------------------------
$gnuTime = (Test-Path /usr/bin/time) -and $(& /usr/bin/time -f '%M' -o /dev/null true *> $null; $LASTEXITCODE -eq 0)
$pwshExe = [System.Environment]::ProcessPath
$pwshCmd = "'$pwshExe'" + $(if ((Split-Path -Leaf $pwshExe) -like 'dotnet*') { " '$(Join-Path $PSHOME 'pwsh.dll')'" })
# One bash script as one process, timed from outside (under GNU time for its peak memory).
function Invoke-Process([string] $Script) {
    $file = "$WorkDir/step.sh"; $rss = "$WorkDir/step.rss"
    Set-Content $file "set -eo pipefail`nexec 2>&1`n$Script"
    Remove-Item $rss -ErrorAction Ignore
    $cmd = if ($gnuTime) { @('/usr/bin/time', '-f', '%M', '-o', $rss, '/bin/bash', $file) } else { @('/bin/bash', $file) }
    $w = [System.Diagnostics.Stopwatch]::StartNew()
    $out = & $cmd[0] @($cmd | Select-Object -Skip 1)
    $w.Stop()
    if ($LASTEXITCODE -ne 0) { throw "failed with exit code $($LASTEXITCODE): $Script`n$($out | Out-String)" }
    $peak = if ($gnuTime -and (Test-Path $rss)) { [math]::Round([double](Get-Content $rss | Select-Object -Last 1) / 1024) }
    [pscustomobject]@{ Seconds = $w.Elapsed.TotalSeconds; Engine = $null; PeakMB = $peak; Output = ($out | Out-String) }
}
# An ExoBackup step that times itself (engine seconds) and prints its peak memory: "RESULT <s> <kB>".
function Step([string] $Script) {
    @"
`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'SilentlyContinue'
Import-Module '$module'
`$w = [System.Diagnostics.Stopwatch]::StartNew()
$Script
`$w.Stop()
`$hwm = (Get-Content /proc/self/status | Where-Object { `$_ -like 'VmHWM:*' }) -replace '\D', ''
"RESULT `$(`$w.Elapsed.TotalSeconds) `$hwm"
"@
}
# ExoBackup as a nightly job runs it: pwsh -NoProfile -File of a script; the engine's seconds inside it too.
function Invoke-ExoProcess([string] $Script) {
    Set-Content "$WorkDir/step.ps1" (Step $Script)
    $r = Invoke-Process "exec $pwshCmd -NoProfile -NonInteractive -File '$WorkDir/step.ps1'"
    $line = ($r.Output -split "`n" | Where-Object { $_ -like 'RESULT *' } | Select-Object -Last 1)
    if (-not $line) { throw "ExoBackup step printed no result: $($r.Output)" }
    $parts = $line.Trim().Split(' ')
    $r.Engine = [double]$parts[1]
    if ($null -eq $r.PeakMB) { $r.PeakMB = [math]::Round([double]$parts[2] / 1024) }
    $r
}
# Runs one step -Runs times, each tool in turn (Before, sync, the timed Run, After with whether it was
# the last run); the fastest run of each tool counts, its engine seconds too, and the highest peak.
function Measure-Step([string] $Title, [System.Collections.IDictionary] $Tools) {
    Write-Host $Title
    $best = [ordered]@{}
    for ($i = 1; $i -le $Runs; $i++) {
        foreach ($name in @($Tools.Keys)) {
            $t = $Tools[$name]
            if ($t.Before) { & $t.Before }
            & sync
            $r = & $t.Run
            Write-Host ('  {0,-10} run {1}: {2,8:0.00} s{3}' -f $name, $i, $r.Seconds, $(if ($null -ne $r.Engine) { ' (engine {0:0.00} s)' -f $r.Engine }))
            $b = $best[$name]
            if (-not $b) { $best[$name] = $r | Select-Object Seconds, Engine, PeakMB }
            else {
                $b.Seconds = [Math]::Min($b.Seconds, $r.Seconds)
                if ($null -ne $r.Engine) { $b.Engine = [Math]::Min($b.Engine, $r.Engine) }
                if ($null -ne $r.PeakMB) { $b.PeakMB = [Math]::Max([double]$b.PeakMB, $r.PeakMB) }
            }
            if ($t.After) { & $t.After ($i -eq $Runs) }
        }
    }
    $best
}
function Get-Bytes([string[]] $Path) { [long](Get-ChildItem $Path -Recurse -File -Force | Measure-Object Length -Sum).Sum }
# File count and bytes of a tree (find is much faster than Get-ChildItem on 100,000 files).
function Get-TreeStat([string] $Path) {
    $n = 0; $b = [long]0
    foreach ($l in (& find $Path -type f -printf '%s\n')) { $n++; $b += [long]$l }
    [pscustomobject]@{ Files = $n; Bytes = $b }
}
function Reset-Dir([string] $Path) { if (Test-Path $Path) { & rm -rf -- $Path }; New-Item -ItemType Directory -Force $Path | Out-Null }

Write-Host "Generating the tree: $SmallFiles files of $MinKB-$MaxKB KB and $LargeFiles files of 1-$MaxLargeMB MB"
$bundle = & "$support/New-ExoSampleBundle.ps1" -Path "$WorkDir/exo" -FileCount $SmallFiles -MinFileKB $MinKB -MaxFileKB $MaxKB -LargeFileCount 0
$rnd = [System.Random]::new(7)
New-Item -ItemType Directory -Force "$($bundle.DataDir)/files/large" | Out-Null
for ($i = 0; $i -lt $LargeFiles; $i++) { [ExoSample.FileFiller]::Large("$($bundle.DataDir)/files/large/attachment-$i.bin", $rnd.Next(1, $MaxLargeMB + 1), 500 + $i) }
$data = $bundle.DataDir
$exoHome = $bundle.Home
Remove-Item -Recurse -Force "$data/jcr/swap", "$data/jta"   # every tool then archives the same tree
$tree = Get-TreeStat $data
$treeBytes = $tree.Bytes
$fileCount = $tree.Files

$ExoRepo = "$WorkDir/repo"; $TarDir = "$WorkDir/tar"; $ResticRepo = "$WorkDir/restic"; $BorgRepo = "$WorkDir/borg"
$peers = [System.Collections.Generic.List[string]]::new()
foreach ($p in @(@('restic', 'restic'), @('borg', 'borgbackup'))) {
    if (Get-Command $p[0] -CommandType Application -ErrorAction Ignore) { $peers.Add($p[0]) }
    else { Write-Warning "$($p[0]) is not installed (Debian's $($p[1]); build.ps1 Bench installs it): left out of this run." }
}
$env:RESTIC_PASSWORD = 'exobackup-bench'; $env:RESTIC_CACHE_DIR = "$WorkDir/restic-cache"
$env:BORG_PASSPHRASE = 'exobackup-bench'; $env:BORG_BASE_DIR = "$WorkDir/borg-home"
$env:BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK = 'yes'
$versions = @("tar $((& tar --version | Select-Object -First 1) -replace '^.* ', '')", "zstd $((& zstd -V) -replace '^.*v([0-9.]+).*$', '$1')")
if ('restic' -in $peers) { $versions += (& restic version) -replace '^(restic \S+).*$', '$1' }
if ('borg' -in $peers) { $versions += "$(& borg --version) (-e $BorgEncryption)" }
$warm = { Invoke-Sh "tar -cf - -C '$data' . > /dev/null" }   # the tree in the page cache for each full backup
function Select-Tools([System.Collections.IDictionary] $All) {
    $o = [ordered]@{}
    foreach ($k in $All.Keys) { if ($k -in @('tar', 'ExoBackup') -or $k -in $peers) { $o[$k] = $All[$k] } }
    $o
}
function Remove-ExoLatest { $r = Invoke-FreshPwsh "Import-Module '$module'; Get-ExoSnapshot '$ExoRepo' -Latest | Remove-ExoSnapshot -Confirm:`$false"; if ($r.ExitCode) { throw "Remove-ExoSnapshot failed: $($r.Output)" } }
function Remove-ResticLatest {
    $id = (& restic -r $ResticRepo snapshots --json | ConvertFrom-Json | Sort-Object { [datetimeoffset]$_.time } | Select-Object -Last 1).id
    Invoke-Sh "restic -r '$ResticRepo' forget -q --prune $id > /dev/null"
}
function Remove-BorgArchive([string] $Name) { Invoke-Sh "borg delete '${BorgRepo}::$Name' && borg compact '$BorgRepo'" }
# The tools of an incremental step: $IncName the new backup, $IncFrom the listed-incremental state tar starts from.
$incTools = {
    Select-Tools ([ordered]@{
        tar = @{ Before = { Copy-Item "$TarDir/$IncFrom.snar" "$TarDir/$IncName.snar" -Force }; Run = { Invoke-Process "tar -g '$TarDir/$IncName.snar' -cf - -C '$data' . | zstd -q -T0 -3 -f -o '$TarDir/$IncName.tar.zst'" } }
        ExoBackup = @{ Run = { Invoke-ExoProcess "`$s = New-ExoSnapshot '$ExoRepo' '$exoHome' -Type Incremental; `$null = `$s | Backup-ExoDataDir; `$null = `$s | Complete-ExoSnapshot" }; After = { param($last) if (-not $last) { Remove-ExoLatest } } }
        restic = @{ Run = { Invoke-Process "cd '$data' && restic -r '$ResticRepo' backup -q --compression auto ." }; After = { param($last) if (-not $last) { Remove-ResticLatest } } }
        borg = @{ Run = { Invoke-Process "cd '$data' && borg create --compression zstd,3 '${BorgRepo}::$IncName' ." }; After = { param($last) if (-not $last) { Remove-BorgArchive $IncName } } }
    })
}

Write-Host "Tree: $('{0:N0}' -f $fileCount) files, $('{0:N2}' -f ($treeBytes / 1GB)) GiB; peers: $($versions -join ', ')"
$full = Measure-Step 'Full backup' (Select-Tools ([ordered]@{
    tar = @{ Before = { & $warm; Reset-Dir $TarDir }; Run = { Invoke-Process "tar -g '$TarDir/full.snar' -cf - -C '$data' . | zstd -q -T0 -3 -f -o '$TarDir/full.tar.zst'" } }
    ExoBackup = @{ Before = { & $warm; if (Test-Path $ExoRepo) { & rm -rf -- $ExoRepo } }; Run = { Invoke-ExoProcess "`$s = New-ExoSnapshot '$ExoRepo' '$exoHome'; `$null = `$s | Backup-ExoDataDir; `$null = `$s | Complete-ExoSnapshot" } }
    restic = @{ Before = { & $warm; if (Test-Path $ResticRepo) { & rm -rf -- $ResticRepo }; Invoke-Sh "restic init -q --repository-version 2 -r '$ResticRepo' > /dev/null" }; Run = { Invoke-Process "cd '$data' && restic -r '$ResticRepo' backup -q --compression auto ." } }
    borg = @{ Before = { & $warm; if (Test-Path $BorgRepo) { & rm -rf -- $BorgRepo }; Invoke-Sh "borg init -e $BorgEncryption '$BorgRepo'" }; Run = { Invoke-Process "cd '$data' && borg create --compression zstd,3 '${BorgRepo}::full' ." } }
}))
$snap = Get-ChildItem $ExoRepo -Directory | Sort-Object Name | Select-Object -Last 1
$ourSize = (Get-Item "$($snap.FullName)/datadir.tar.zst").Length
$tarSize = (Get-Item "$TarDir/full.tar.zst").Length
$repoPaths = [ordered]@{ ExoBackup = $ExoRepo; tar = $TarDir; restic = $ResticRepo; borg = $BorgRepo }
$sizeFull = [ordered]@{}; foreach ($k in $full.Keys) { $sizeFull[$k] = Get-Bytes $repoPaths[$k] }

Write-Host 'A whole process that does nothing: pwsh -NoProfile -File, Import-Module'
$fixed = Measure-Step '' ([ordered]@{ ExoBackup = @{ Run = { Invoke-ExoProcess '$null = Get-Command -Module ExoBackup' } } })

$IncName = 'inc-1'; $IncFrom = 'full'
$none = Measure-Step 'Incremental with nothing changed' (& $incTools)

Write-Host 'Changing 1 % of the files'
$changed = Get-ChildItem "$data/jcr/values" -Recurse -File | Get-Random -Count ([int]($fileCount / 100)) -SetSeed 3
foreach ($f in $changed) { [System.IO.File]::AppendAllText($f.FullName, 'changed') }
$after = Get-TreeStat $data
$IncName = 'inc-2'; $IncFrom = 'inc-1'
$inc = Measure-Step 'Incremental after 1 % of the files changed' (& $incTools)
$sizeThree = [ordered]@{}; foreach ($k in $inc.Keys) { $sizeThree[$k] = Get-Bytes $repoPaths[$k] }
# Each repository holds exactly the three backups (the removals between runs worked).
$kept = [ordered]@{ ExoBackup = @(Get-ChildItem $ExoRepo -Directory).Count; tar = @(Get-ChildItem "$TarDir/*.tar.zst").Count }
if ('restic' -in $peers) { $kept.restic = @(& restic -r $ResticRepo snapshots --json | ConvertFrom-Json).Count }
if ('borg' -in $peers) { $kept.borg = @(& borg list --short $BorgRepo).Count }
foreach ($k in $kept.Keys) { if ($kept[$k] -ne 3) { throw "$k's repository holds $($kept[$k]) backups, not 3" } }
$latest = (Get-ChildItem $ExoRepo -Directory | Sort-Object Name | Select-Object -Last 1).Name

# Each restore lands in its own folder; the last run's is checked against the tree, then removed.
function Test-Restored([string] $Tool, [string] $Path) {
    $got = Get-TreeStat $Path
    if ($got.Files -ne $after.Files -or $got.Bytes -ne $after.Bytes) {
        throw "$Tool restored $($got.Files) files, $($got.Bytes) B into $Path; the tree has $($after.Files) files, $($after.Bytes) B"
    }
    & rm -rf -- $Path
}
$restore = Measure-Step 'Restore of the latest (the third backup)' (Select-Tools ([ordered]@{
    tar = @{ Before = { Reset-Dir "$WorkDir/out-tar" }; Run = { Invoke-Process "for a in full inc-1 inc-2; do zstd -q -dc '$TarDir/'`$a'.tar.zst' | tar -g /dev/null -xf - -C '$WorkDir/out-tar'; done" }; After = { param($last) if ($last) { Test-Restored tar "$WorkDir/out-tar" } } }
    ExoBackup = @{ Before = { if (Test-Path "$WorkDir/out-exo") { & rm -rf -- "$WorkDir/out-exo" } }; Run = { Invoke-ExoProcess "`$null = Restore-ExoSnapshot -Repository '$ExoRepo' -Id '$latest' -Component DataDir -DataDir '$WorkDir/out-exo' -Confirm:`$false" }; After = { param($last) if ($last) { Test-Restored ExoBackup "$WorkDir/out-exo" } } }
    restic = @{ Before = { if (Test-Path "$WorkDir/out-restic") { & rm -rf -- "$WorkDir/out-restic" } }; Run = { Invoke-Process "restic -r '$ResticRepo' restore -q latest --target '$WorkDir/out-restic'" }; After = { param($last) if ($last) { Test-Restored restic "$WorkDir/out-restic" } } }
    borg = @{ Before = { Reset-Dir "$WorkDir/out-borg" }; Run = { Invoke-Process "cd '$WorkDir/out-borg' && borg extract '${BorgRepo}::inc-2'" }; After = { param($last) if ($last) { Test-Restored borg "$WorkDir/out-borg" } } }
}))

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
        $part = Best { Remove-Item -Recurse -BreakLock "$WorkDir/repo-pg" -ErrorAction Ignore; Exo "`$s = New-ExoSnapshot '$WorkDir/repo-pg' '$($pgBundle.Home)'; `$null = `$s | Backup-ExoDatabase" }
        $pgRows = @([pscustomobject]@{ Measure = "PostgreSQL part ($('{0:N0}' -f (Get-Item "$WorkDir/by-hand.dump").Length) B dump)"; ExoBackup = '{0:0.00} s' -f $part.Seconds; Baseline = '{0:0.00} s (pg_dump -Fc by hand)' -f $byHand; Ratio = '{0:0.00}' -f ($part.Seconds / $byHand); Goal = '<= 1.05' })

        Write-Host 'Backup-ExoPlatform (parts in parallel) vs the same parts one after another'
        $whole = & "$support/New-ExoSampleBundle.ps1" -Path "$WorkDir/whole" -Database PostgreSql -DatabaseHost 127.0.0.1 -DatabasePort $pg.Port -DatabasePassword $pg.Password `
            -FileCount ([int]($SmallFiles / 4)) -MinFileKB $MinKB -MaxFileKB $MaxKB -LargeFileCount 4 -LargeFileMB 32
        $sequential = Best { Remove-Item -Recurse -BreakLock "$WorkDir/repo-seq" -ErrorAction Ignore; Exo "`$s = New-ExoSnapshot '$WorkDir/repo-seq' '$($whole.Home)'; `$null = `$s | Backup-ExoDataDir; `$null = `$s | Backup-ExoConfiguration; `$null = `$s | Backup-ExoDatabase; `$null = `$s | Complete-ExoSnapshot" }
        $parallel = Best { Remove-Item -Recurse -Force "$WorkDir/repo-par" -ErrorAction Ignore; Exo "`$null = Backup-ExoPlatform '$($whole.Home)' '$WorkDir/repo-par'" }
        $manifest = Get-Content (Get-ChildItem "$WorkDir/repo-par/*/manifest.json" | Select-Object -First 1) -Raw | ConvertFrom-Json
        $slowest = ($manifest.parts | ForEach-Object { ([datetimeoffset]$_.ended - [datetimeoffset]$_.started).TotalSeconds } | Measure-Object -Maximum).Maximum
        $pgRows += [pscustomobject]@{ Measure = 'Backup-ExoPlatform vs its slowest part'; ExoBackup = '{0:0.00} s' -f $parallel.Seconds; Baseline = '{0:0.00} s (slowest part, in that run)' -f $slowest; Ratio = '{0:0.00}' -f ($parallel.Seconds / $slowest); Goal = '<= 1.15' }
        $pgRows += [pscustomobject]@{ Measure = 'Backup-ExoPlatform vs the parts in turn'; ExoBackup = '{0:0.00} s' -f $parallel.Seconds; Baseline = '{0:0.00} s (New, each Backup-Exo*, Complete)' -f $sequential.Seconds; Ratio = '{0:0.00}' -f ($parallel.Seconds / $sequential.Seconds); Goal = '< 1.00' }
    }
    finally { Stop-TestPostgres $pg }
}

# The peers' table: seconds of whole processes per step and tool, and ExoBackup's ratio to each.
$others = @($full.Keys | Where-Object { $_ -ne 'ExoBackup' })
function Format-Ratio([double] $Ours, $Theirs, [string] $Format = '0.00') { if ($Theirs) { ("{0:$Format}" -f ($Ours / $Theirs)) } else { '-' } }
function New-PeerRow([string] $Step, [System.Collections.IDictionary] $Values, [string] $Unit, [string] $Format, [string] $RatioFormat = '0.00', $Engine) {
    $row = [ordered]@{ Step = $Step }
    foreach ($k in @('ExoBackup') + $others) {
        $v = $Values[$k]
        $row[$k] = if ($null -eq $v) { '-' } else { "{0:$Format} $Unit" -f $v }
        if ($k -eq 'ExoBackup') { $row['ExoBackup engine'] = if ($null -ne $Engine) { '{0:0.00} s' -f $Engine } else { '-' } }
    }
    foreach ($k in $others) { $row["ExoBackup/$k"] = if ($null -ne $Values['ExoBackup'] -and $Values[$k]) { Format-Ratio $Values['ExoBackup'] $Values[$k] $RatioFormat } else { '-' } }
    [pscustomobject]$row
}
function Get-Seconds([System.Collections.IDictionary] $Step) { $o = [ordered]@{}; foreach ($k in $Step.Keys) { $o[$k] = $Step[$k].Seconds }; $o }
function Get-Peak([System.Collections.IDictionary] $Step) { $o = [ordered]@{}; foreach ($k in $Step.Keys) { $o[$k] = $Step[$k].PeakMB }; $o }
function Get-MB([System.Collections.IDictionary] $Sizes) { $o = [ordered]@{}; foreach ($k in $Sizes.Keys) { $o[$k] = $Sizes[$k] / 1e6 }; $o }
$peerRows = @(
    New-PeerRow 'full backup' (Get-Seconds $full) 's' '0.00' -Engine $full.ExoBackup.Engine
    New-PeerRow 'incremental, nothing changed' (Get-Seconds $none) 's' '0.00' -Engine $none.ExoBackup.Engine
    New-PeerRow 'incremental, 1 % changed' (Get-Seconds $inc) 's' '0.00' -Engine $inc.ExoBackup.Engine
    New-PeerRow 'restore of the latest (of three)' (Get-Seconds $restore) 's' '0.00' -Engine $restore.ExoBackup.Engine
    New-PeerRow 'repository after the full' (Get-MB $sizeFull) 'MB' 'N1' '0.000'
    New-PeerRow 'repository after three backups' (Get-MB $sizeThree) 'MB' 'N1' '0.000'
    New-PeerRow 'peak memory, full backup' (Get-Peak $full) 'MiB' '0' '0.00'
)

$rows = @(
    [pscustomobject]@{ Measure = 'full backup (whole process)'; ExoBackup = '{0:0.00} s' -f $full.ExoBackup.Seconds; Baseline = '{0:0.00} s (tar | zstd -T0 -3)' -f $full.tar.Seconds; Ratio = Format-Ratio $full.ExoBackup.Seconds $full.tar.Seconds; Goal = '<= 1.00' }
    [pscustomobject]@{ Measure = 'archive size'; ExoBackup = '{0:N0} B' -f $ourSize; Baseline = '{0:N0} B' -f $tarSize; Ratio = '{0:0.000}' -f ($ourSize / $tarSize); Goal = '<= 1.05' }
    [pscustomobject]@{ Measure = 'incremental, 1 % changed (whole processes)'; ExoBackup = '{0:0.00} s' -f $inc.ExoBackup.Seconds; Baseline = '{0:0.00} s (the full)' -f $full.ExoBackup.Seconds; Ratio = Format-Ratio $inc.ExoBackup.Seconds $full.ExoBackup.Seconds '0.000'; Goal = '<= 0.05' }
    [pscustomobject]@{ Measure = 'the same, engine only'; ExoBackup = '{0:0.00} s' -f $inc.ExoBackup.Engine; Baseline = '{0:0.00} s (the full)' -f $full.ExoBackup.Engine; Ratio = Format-Ratio $inc.ExoBackup.Engine $full.ExoBackup.Engine '0.000'; Goal = '<= 0.05' }
    [pscustomobject]@{ Measure = 'incremental, nothing changed, per 100,000 files'; ExoBackup = '{0:0.00} s (engine {1:0.00} s)' -f ($none.ExoBackup.Seconds * 100000 / $fileCount), ($none.ExoBackup.Engine * 100000 / $fileCount); Baseline = '-'; Ratio = '-'; Goal = '< 1 s' }
    [pscustomobject]@{ Measure = 'restore of the latest (whole process)'; ExoBackup = '{0:0.00} s' -f $restore.ExoBackup.Seconds; Baseline = '{0:0.00} s (zstd -dc | tar -x, each archive)' -f $restore.tar.Seconds; Ratio = Format-Ratio $restore.ExoBackup.Seconds $restore.tar.Seconds; Goal = '<= 1.00' }
    [pscustomobject]@{ Measure = 'a whole process doing nothing (pwsh start, Import-Module)'; ExoBackup = '{0:0.00} s' -f $fixed.ExoBackup.Seconds; Baseline = '-'; Ratio = '-'; Goal = '-' }
    [pscustomobject]@{ Measure = 'peak memory (full backup)'; ExoBackup = "$($full.ExoBackup.PeakMB) MiB"; Baseline = '-'; Ratio = '-'; Goal = 'bounded by file count' }
) + $pgRows
$header = "Tree: $('{0:N0}' -f $fileCount) files, $('{0:N1}' -f ($treeBytes / 1GB)) GiB; $([Environment]::ProcessorCount) cores; best of $Runs runs; $(Get-Date -Format 'yyyy-MM-dd'); $($versions -join ', ')"
Write-Host $header
Write-Host ($peerRows | Format-Table -AutoSize | Out-String -Width 400)
Write-Host ($rows | Format-Table -AutoSize | Out-String -Width 400)
$cols = @($peerRows[0].PSObject.Properties.Name)
function ConvertTo-Cell($v) { "$v".Replace('|', '\|') }
$peerMd = @("| $($cols -join ' | ') |", "| $(@($cols | ForEach-Object { '---' }) -join ' | ') |") + ($peerRows | ForEach-Object { $r = $_; "| $(@($cols | ForEach-Object { ConvertTo-Cell $r.$_ }) -join ' | ') |" })
$md = @("| measure | ExoBackup | baseline | ratio | goal |", "| --- | --- | --- | --- | --- |") + ($rows | ForEach-Object { "| $(@($_.Measure, $_.ExoBackup, $_.Baseline, $_.Ratio, $_.Goal | ForEach-Object { ConvertTo-Cell $_ }) -join ' | ') |" })
$out = if ($ResultFile) { $ResultFile } else { Join-Path $ModuleDir '../bench.md' }
Set-Content $out (@($header, '') + $peerMd + @('') + $md)
Write-Host "Written to $out"
& rm -rf -- $WorkDir
