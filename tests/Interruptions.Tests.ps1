# Ctrl+C and SIGKILL at many points of a whole-platform backup (data dir, configuration, a real
# PostgreSQL database through pg_dump, chat from the MongoDB test server) and of a restore (data dir
# and database). Tag Reliability; figures are printed for the README.
BeforeDiscovery { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Discovery }
BeforeAll {
    . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'interrupt' -Databases
    $Tmp = [System.IO.Path]::GetTempPath()
    $Soak = [bool] $env:EXOBACKUP_SOAK
}
AfterAll { Remove-Item -Recurse -Force $Root -ErrorAction Ignore }

Describe 'Interrupting a whole-platform backup and restore' -Tag Reliability -Skip:$NoPostgres {
    BeforeAll {
        $Pg = Start-TestPostgres -Root "$Root/pg" -Password 'Interrupt-Secret-4417'
        Invoke-TestPostgresSql $Pg 'CREATE DATABASE exo OWNER exo' | Out-Null
        # Enough rows that pg_dump and its read-back take a second or two: room for interruptions.
        Invoke-TestPostgresSql $Pg "SET ROLE exo; CREATE TABLE big AS SELECT g AS id, md5(g::text) || repeat('x', 200) AS txt FROM generate_series(1, 300000) g;" -Database exo | Out-Null
        $Mongo = Start-MongoTestServer -User chat -Password 'Chat-Interrupt-Secret' -Seed 20000
        $MongoPort = $Mongo.Port
        $B = New-Bundle 'exo' -Database PostgreSql -DatabaseHost 127.0.0.1 -DatabasePort $Pg.Port -DatabasePassword $Pg.Password `
            -Chat -ChatHosts "127.0.0.1:$MongoPort" -ChatDatabase chat -ChatUser chat -ChatPassword 'Chat-Interrupt-Secret' -FileCount 2000 -LargeFileCount 2 -LargeFileMB 16
        $Repo = "$Root/repo"
        # The processes that belong to the test itself (the MongoDB test server): none other may outlive an interruption.
        $Baseline = @(Get-LiveProcess -ParentId $PID).Id
        $Good = Backup-ExoPlatform -Platform $B.Home -Repository $Repo -WarningAction SilentlyContinue
        $Good.Parts.Component | Sort-Object -Unique | Should -Be @('Chat', 'Configuration', 'Database', 'DataDir')

        function Assert-NothingLeft([string] $When) {
            Wait-Until { -not (Get-LiveProcess -ParentId $PID | Where-Object Id -notin $Baseline) } -TimeoutSeconds 15 -Because "every child process to be gone after $When"
            Get-ChildItem $Tmp -Directory -Filter "exobackup-secret-$PID-*" | Should -BeNullOrEmpty -Because "no secret file may stay after $When"
        }
        # The snapshots a stop or kill let complete are whole; they are tested and removed. Returns their count.
        function Remove-NewSnapshot {
            $n = 0
            foreach ($s in Get-ExoSnapshot $Repo | Where-Object Id -ne $Good.Id) {
                Test-ExoSnapshot -Repository $Repo -Id $s.Id | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
                Remove-ExoSnapshot -Repository $Repo -Id $s.Id -Confirm:$false | Out-Null
                $n++
            }
            $n
        }
        # How long a script takes in a new runspace of this (warm) process: the stops are spread over that time.
        function Measure-Runspace([string] $Script) {
            $ps = [powershell]::Create()
            $null = $ps.AddScript($Script)
            $w = [System.Diagnostics.Stopwatch]::StartNew()
            $null = $ps.Invoke()
            $ms = $w.Elapsed.TotalMilliseconds
            if ($ps.HadErrors) { throw "The uninterrupted run failed: $($ps.Streams.Error | Out-String)" }
            $ps.Dispose()
            $ms
        }
        # Runs the script in a new runspace, presses Ctrl+C after the delay; returns how long the pipeline took to stop.
        function Invoke-CtrlC([string] $Script, [int] $DelayMs, [string] $When) {
            $ps = [powershell]::Create()
            $null = $ps.AddScript($Script)
            $null = $ps.BeginInvoke()
            Start-Sleep -Milliseconds $DelayMs
            $w = [System.Diagnostics.Stopwatch]::StartNew()
            $stopping = $ps.BeginStop($null, $null)
            if (-not $stopping.AsyncWaitHandle.WaitOne(30000)) { throw "Ctrl+C $When did not stop the pipeline within 30 s" }
            $ps.Dispose()
            $w.Elapsed.TotalMilliseconds
        }
    }
    AfterAll {
        Stop-MongoTestServer $Mongo
        Stop-TestPostgres $Pg
    }

    It 'stops on Ctrl+C at every point of Backup-ExoPlatform: no child process, no secret file, no lock, no partial snapshot' {
        $rng = [System.Random]::new(31)
        $points = if ($Soak) { 40 } else { 12 }
        $script = "Import-Module '$env:EXOBACKUP_MODULE'; Backup-ExoPlatform -Platform '$($B.Home)' -Repository '$Repo' -WarningAction SilentlyContinue"
        # Runs vary by a third here; the stops are spread over the first 80 % of the quicker of two.
        $backupMs = 0.8 * [Math]::Min((Measure-Runspace $script), (Measure-Runspace $script))
        $null = Remove-NewSnapshot
        $completed = 0; $late = @(); $slowest = 0
        for ($i = 0; $i -lt $points; $i++) {
            $delay = [int]($rng.NextDouble() * $backupMs)
            $slowest = [Math]::Max($slowest, (Invoke-CtrlC $script $delay "at $delay ms of a backup"))
            Assert-NothingLeft "Ctrl+C at $delay ms of a backup"
            "$Repo/lock.json" | Should -Not -Exist -Because "Ctrl+C at $delay ms releases the lock"
            Get-ChildItem $Repo -Filter '*.partial' | Should -BeNullOrEmpty -Because "Ctrl+C at $delay ms removes the unfinished snapshot"
            $c = Remove-NewSnapshot
            if ($c) { $late += $delay }
            $completed += $c
        }
        Test-ExoSnapshot -Repository $Repo -Id $Good.Id | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
        Write-Host "Backup Ctrl+C: $points stops over $([int]$backupMs) ms ($completed came after the snapshot was complete: at $(($late | Sort-Object) -join ', ') ms); the slowest stop took $([int]$slowest) ms; no child process, secret file, lock or partial snapshot left."
    }

    It 'stops on Ctrl+C at every point of a restore: the data dir and the database are the old or the restored ones, nothing staged is left' {
        $rng = [System.Random]::new(32)
        $points = if ($Soak) { 30 } else { 10 }
        $target = "$Root/restore-target"
        $script = "Import-Module '$env:EXOBACKUP_MODULE'; Restore-ExoSnapshot -Repository '$Repo' -Id '$($Good.Id)' -Component DataDir, Database -DataDir '$target' -DiscardReplaced -Confirm:`$false"
        $restoreMs = Measure-Runspace $script
        $restored = Get-TreeState $target
        $outcomes = @{ old = 0; new = 0 }; $slowest = 0
        for ($i = 0; $i -lt $points; $i++) {
            Remove-Item -Recurse -Force $target -ErrorAction Ignore
            New-Item -ItemType Directory $target | Out-Null
            Set-Content "$target/old.txt" 'old data'
            $old = Get-TreeState $target
            Invoke-TestPostgresSql $Pg 'DELETE FROM big WHERE id <= 10' -Database exo | Out-Null
            $delay = [int]($rng.NextDouble() * $restoreMs)
            $slowest = [Math]::Max($slowest, (Invoke-CtrlC $script $delay "at $delay ms of a restore"))
            Assert-NothingLeft "Ctrl+C at $delay ms of a restore"
            $rows = Invoke-TestPostgresSql $Pg 'SELECT count(*) FROM big' -Database exo
            $rows | Should -BeIn @('299990', '300000') -Because "the database is the old one or the restored one after Ctrl+C at $delay ms"
            Invoke-TestPostgresSql $Pg "SELECT count(*) FROM pg_database WHERE datname LIKE '%exobackup_staged%'" | Should -Be '0'
            Get-ChildItem $Root -Filter 'restore-target.restore-*' | Should -BeNullOrEmpty -Because 'the staging folder goes with the stop'
            $now = Get-TreeState $target
            if (-not (Compare-TreeState $old $now)) { $outcomes.old++ }
            elseif (-not (Compare-TreeState $restored $now)) { $outcomes.new++ }
            else { throw "After Ctrl+C at $delay ms the data dir is neither the old nor the restored one" }
        }
        Write-Host "Restore Ctrl+C: $points stops over $([int]$restoreMs) ms, the slowest taking $([int]$slowest) ms; the data dir was the old one $($outcomes.old) times and the restored one $($outcomes.new) times; the database always whole."
    }

    It 'keeps both passwords out of the command line and the environment of every real child process while it backs up and restores' {
        $passwords = $Pg.Password, 'Chat-Interrupt-Secret'
        $seen = @{}; $leaks = @()
        foreach ($script in "Backup-ExoPlatform -Platform '$($B.Home)' -Repository '$Repo' -WarningAction SilentlyContinue",
                            "Restore-ExoSnapshot -Repository '$Repo' -Id '$($Good.Id)' -Component Database, Chat -DiscardReplaced -Confirm:`$false") {
            $ps = [powershell]::Create()
            $null = $ps.AddScript("Import-Module '$env:EXOBACKUP_MODULE'; $script")
            $handle = $ps.BeginInvoke()
            while (-not $handle.IsCompleted) {
                foreach ($child in Get-LiveProcess -ParentId $PID | Where-Object Id -notin $Baseline) {
                    try {
                        $cmdline = [System.IO.File]::ReadAllText("/proc/$($child.Id)/cmdline").Replace([char]0, ' ')
                        $environ = [System.IO.File]::ReadAllText("/proc/$($child.Id)/environ").Replace([char]0, "`n")
                    } catch { continue } # it ended meanwhile
                    $seen[$child.Name] = 1 + [int]$seen[$child.Name]
                    foreach ($pw in $passwords) { if ($cmdline.Contains($pw) -or $environ.Contains($pw)) { $leaks += "$($child.Name): $cmdline" } }
                }
            }
            $null = $ps.EndInvoke($handle)
            $ps.Dispose()
        }
        $leaks | Should -BeNullOrEmpty
        $seen.Keys | Should -Contain 'pg_dump' -Because 'the scan must have caught the real tools at work'
        $seen.Keys | Should -Contain 'pg_restore'
        Write-Host "Secret scan: $(($seen.GetEnumerator() | Sort-Object Name | ForEach-Object { "$($_.Name) seen $($_.Value) times" }) -join ', '); no password in any command line or environment."
        $null = Remove-NewSnapshot
    }

    It 'leaves the database old, restored, or set aside whole after SIGKILL at every point of a restore' {
        $rng = [System.Random]::new(34)
        $points = if ($Soak) { 30 } else { 8 }
        $script = "Import-Module '$env:EXOBACKUP_MODULE'; Restore-ExoSnapshot -Repository '$Repo' -Id '$($Good.Id)' -Component Database -Confirm:`$false"
        $w = [System.Diagnostics.Stopwatch]::StartNew()
        $null = Invoke-FreshPwsh $script
        $restoreMs = $w.Elapsed.TotalMilliseconds
        $outcomes = @{ old = 0; new = 0; aside = 0 }
        function Get-Staging { @(Invoke-TestPostgresSql $Pg "SELECT datname FROM pg_database WHERE datname LIKE 'exo\_exobackup\_staged\_%'" | Where-Object { $_ }) }
        for ($i = 0; $i -lt $points; $i++) {
            # Start from one database 'exo' with 10 rows fewer than the snapshot: the old data. Staging
            # databases that kills left stay: the next restore that gets that far drops them.
            foreach ($db in @(Invoke-TestPostgresSql $Pg "SELECT datname FROM pg_database WHERE datname LIKE 'exo\_pre\_restore\_%'" | Where-Object { $_ })) { Invoke-TestPostgresSql $Pg "DROP DATABASE `"$db`"" | Out-Null }
            Invoke-TestPostgresSql $Pg 'DELETE FROM big WHERE id <= 10' -Database exo | Out-Null
            $p = Invoke-FreshPwsh -NoWait $script
            Start-Sleep -Milliseconds ([int]($rng.NextDouble() * $restoreMs))
            if (-not $p.HasExited) { $p.Kill($false) }
            $p.WaitForExit()
            Wait-Until { -not (Get-LiveProcess -Name pg_restore) } -TimeoutSeconds 60 -Because 'an orphaned pg_restore to end'
            $exists = (Invoke-TestPostgresSql $Pg "SELECT count(*) FROM pg_database WHERE datname = 'exo'") -eq '1'
            $kept = @(Invoke-TestPostgresSql $Pg "SELECT datname FROM pg_database WHERE datname LIKE 'exo\_pre\_restore\_%'" | Where-Object { $_ })
            if ($exists) {
                $rows = Invoke-TestPostgresSql $Pg 'SELECT count(*) FROM big' -Database exo
                if ($rows -eq '299990') { $outcomes.old++ }
                elseif ($rows -eq '300000') {
                    $outcomes.new++
                    $kept | Should -HaveCount 1 -Because 'the replaced database is kept'
                    Invoke-TestPostgresSql $Pg 'SELECT count(*) FROM big' -Database $kept[0] | Should -Be '299990'
                }
                else { throw "After a kill the database holds $rows rows: neither the old nor the restored one" }
            }
            else {
                # Killed between the two renames: the old database waits, whole, under its kept name.
                $kept | Should -HaveCount 1
                Invoke-TestPostgresSql $Pg 'SELECT count(*) FROM big' -Database $kept[0] | Should -Be '299990'
                Invoke-TestPostgresSql $Pg "ALTER DATABASE `"$($kept[0])`" RENAME TO exo" | Out-Null
                $outcomes.aside++
            }
        }
        $left = Get-Staging
        Restore-ExoSnapshot -Repository $Repo -Id $Good.Id -Component Database -DiscardReplaced -Confirm:$false | Out-Null
        Get-Staging | Should -BeNullOrEmpty -Because 'the next restore drops the staging databases that killed ones left'
        Write-Host "Database restore kills: $points over $([int]$restoreMs) ms; the database was the old one $($outcomes.old) times, the restored one $($outcomes.new) times, set aside whole $($outcomes.aside) times; never half. $($left.Count) staging database(s) left by the kills, dropped by the next restore."
    }

    It 'survives SIGKILL at every point of Backup-ExoPlatform: earlier snapshots pass, the lock is stale and breakable, the next backup succeeds' {
        $rng = [System.Random]::new(33)
        $points = if ($Soak) { 40 } else { 10 }
        $w = [System.Diagnostics.Stopwatch]::StartNew()
        $null = Invoke-FreshPwsh "Import-Module '$env:EXOBACKUP_MODULE'; Backup-ExoPlatform -Platform '$($B.Home)' -Repository '$Repo' -WarningAction SilentlyContinue"
        $freshMs = $w.Elapsed.TotalMilliseconds
        $null = Remove-NewSnapshot
        $kills = 0; $stale = 0; $killed = @()
        for ($i = 0; $i -lt $points; $i++) {
            $delay = [int]($rng.NextDouble() * $freshMs)
            $p = Invoke-FreshPwsh -NoWait "Import-Module '$env:EXOBACKUP_MODULE'; Backup-ExoPlatform -Platform '$($B.Home)' -Repository '$Repo' -WarningAction SilentlyContinue"
            Start-Sleep -Milliseconds $delay
            # The pwsh alone, as kill -9 would: its pg_dump is orphaned and finishes or fails on its own.
            if (-not $p.HasExited) { $p.Kill($false); $kills++; $killed += $p.Id }
            $p.WaitForExit()
            Wait-Until { -not (Get-LiveProcess -Name pg_dump, pg_restore) } -TimeoutSeconds 60 -Because 'an orphaned pg_dump to end'
            $null = Remove-NewSnapshot
            Test-ExoSnapshot -Repository $Repo -Id $Good.Id | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
            if (Test-Path "$Repo/lock.json") {
                # Left by the killed pwsh: it names a process that is gone, which the next run breaks by itself.
                $owner = Get-Content "$Repo/lock.json" -Raw | ConvertFrom-Json
                $owner.pid | Should -BeIn $killed
                Get-LiveProcess | Where-Object Id -eq $owner.pid | Should -BeNullOrEmpty
                $stale++
            }
        }
        $next = Backup-ExoPlatform -Platform $B.Home -Repository $Repo -Type Incremental -WarningAction SilentlyContinue
        $next.Status | Should -Be 'Complete'
        Test-ExoSnapshot -Repository $Repo -Id $next.Id | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
        Remove-ExoSnapshot -Repository $Repo -IncompleteOlderThan 0 -Confirm:$false | Out-Null
        Get-ChildItem $Repo -Filter '*.partial' | Should -BeNullOrEmpty
        foreach ($id in $killed) { Get-ChildItem $Tmp -Directory -Filter "exobackup-secret-$id-*" | Should -BeNullOrEmpty -Because 'the next backup sweeps the secret folders of killed processes' }
        (Invoke-TestPostgresSql $Pg "SELECT count(*) FROM pg_database WHERE datname LIKE '%exobackup%'") | Should -Be '0'
        Write-Host "Platform backup kills: $kills pwsh processes killed at $points points over $([int]$freshMs) ms; $stale left a stale lock naming the killed process, broken by the next run without -BreakLock; the earlier snapshot passed every time."
    }
}
