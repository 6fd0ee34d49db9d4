# Backup-ExoPlatform: the one-call runbook on a real Tomcat, with PostgreSQL and the MongoDB test server.
BeforeDiscovery { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Discovery }
BeforeAll { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'platform-backup-tests' -Databases }
AfterAll { Clear-TestRoot $Root }

Describe 'Backup-ExoPlatform' -Skip:($NoTomcat -or $NoPostgres) {
    BeforeAll {
        $Pg = Start-TestPostgres -Root "$Root/pg"
        Invoke-TestPostgresSql $Pg 'CREATE DATABASE exo OWNER exo' | Out-Null
        Invoke-TestPostgresSql $Pg "SET ROLE exo; CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 50000) g;" -Database exo | Out-Null
        $Mongo = Start-MongoTestServer -Seed 2000
        $MongoPort = $Mongo.Port
        $B = New-Bundle 'exo' -Database PostgreSql -DatabaseHost 127.0.0.1 -DatabasePort $Pg.Port -DatabasePassword $Pg.Password `
            -Chat -ChatHosts "127.0.0.1:$MongoPort" -FileCount 1500 -LargeFileCount 2 -LargeFileMB 16
        $Repo = "$Root/repo"
        Start-ExoPlatform $B.Home -Wait -Timeout 120
    }
    AfterAll {
        Stop-TestPostgres $Pg
        Stop-MongoTestServer $Mongo
    }

    It 'refuses while eXo runs, without -StopPlatform or -AllowOnline' {
        { Backup-ExoPlatform $B.Home $Repo } | Should -Throw -ErrorId 'ExoBackup.PlatformRunning,*'
        $Repo | Should -Not -Exist
    }
    It 'prints the plan with -WhatIf and changes nothing' {
        Backup-ExoPlatform $B.Home $Repo -StopPlatform -WhatIf
        (Get-ExoPlatform $B.Home).IsRunning | Should -BeTrue
        $Repo | Should -Not -Exist
    }
    It 'stops eXo, takes every part, starts eXo again, and records the downtime' {
        $pidBefore = (Get-ExoPlatform $B.Home).Pid
        $s = Backup-ExoPlatform $B.Home $Repo -StopPlatform -Verbose 4>$null
        $s.Status | Should -Be 'Complete'
        $s.Consistency | Should -Be 'Offline'
        $s.Parts.Component | Sort-Object | Should -Be @('Chat', 'Configuration', 'Database', 'DataDir')
        $s.Downtime | Should -BeOfType [timespan]
        $s.Downtime.TotalSeconds | Should -BeGreaterThan 0
        (Get-Content "$($s.Path)/manifest.json" -Raw | ConvertFrom-Json).downtime | Should -Not -BeNullOrEmpty
        $p = Get-ExoPlatform $B.Home
        $p.IsRunning | Should -BeTrue
        $p.Pid | Should -Not -Be $pidBefore
        $s.Parts | ForEach-Object { $_.PlatformRunningAtStart | Should -BeFalse; $_.PlatformRunningAtEnd | Should -BeFalse }
        Test-ExoSnapshot -Repository $Repo -Id $s.Id -Level Archive | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
    }
    It 'takes the parts at the same time: wall time well under the sum of the parts' {
        $s = Get-ExoSnapshot $Repo -Latest
        $first = ($s.Parts.Started | Measure-Object -Minimum).Minimum
        $last = ($s.Parts.Ended | Measure-Object -Maximum).Maximum
        $sum = ($s.Parts | ForEach-Object { $_.Duration.TotalSeconds } | Measure-Object -Sum).Sum
        $overlap = @($s.Parts | Where-Object { $_.Started -lt ($s.Parts | Where-Object Component -eq 'DataDir').Ended -and $_.Component -ne 'DataDir' })
        $overlap.Count | Should -BeGreaterThan 0 -Because 'the other parts start while the data dir is still being taken'
        ($last - $first).TotalSeconds | Should -BeLessOrEqual $sum
    }
    It 'starts eXo again and leaves no snapshot when a part fails' {
        $bad = [pscredential]::new('exo', (ConvertTo-SecureString 'not-the-password' -AsPlainText -Force))
        $err = $null
        try { Backup-ExoPlatform $B.Home $Repo -Type Incremental -StopPlatform -Credential $bad } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.DatabaseAuthenticationFailed,*'
        (Get-ExoPlatform $B.Home).IsRunning | Should -BeTrue
        Get-ExoSnapshot $Repo -IncludeIncomplete | Where-Object Status -eq 'InProgress' | Should -BeNullOrEmpty
        "$Repo/lock.json" | Should -Not -Exist
    }
    It 'starts eXo again on Ctrl+C, leaving no snapshot and no lock' {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$env:EXOBACKUP_MODULE'; Backup-ExoPlatform '$($B.Home)' '$Repo' -StopPlatform -CompressionLevel 19")
        $async = $ps.BeginInvoke()
        Wait-Until { Get-ChildItem "$Repo/*.partial/datadir.tar.zst" -ErrorAction Ignore } -TimeoutSeconds 60 -Because 'the data dir to be archived'
        $ps.Stop()
        $ps.Dispose()
        (Get-ExoPlatform $B.Home).IsRunning | Should -BeTrue
        Get-ChildItem $Repo -Filter '*.partial' | Should -BeNullOrEmpty
        "$Repo/lock.json" | Should -Not -Exist
        (Get-ExoSnapshot $Repo).Count | Should -Be 1
    }
    It 'takes an Online snapshot with -AllowOnline' {
        $s = Backup-ExoPlatform $B.Home $Repo -Type Incremental -AllowOnline -Component DataDir, Configuration -WarningAction SilentlyContinue
        $s.Consistency | Should -Be 'Online'
        $s.Downtime | Should -BeNullOrEmpty
    }
}
