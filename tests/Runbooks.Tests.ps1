# The runbooks in examples/, run as an admin would, against the sample bundle on a real Tomcat.
BeforeDiscovery { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Discovery }
BeforeAll {
    . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'runbook-tests'
    $Examples = Join-Path $env:EXOBACKUP_TESTS '../examples'
}
AfterAll { Clear-TestRoot $Root }

Describe 'Runbooks' -Skip:$NoTomcat {
    BeforeAll {
        $B = New-Bundle 'exo' -FileCount 300 -LargeFileCount 1
        $Repo = "$Root/backup"
        Start-ExoPlatform $B.Home -Wait -Timeout 120
    }
    It 'nightly: changes nothing with -WhatIf' {
        & "$Examples/Invoke-NightlyBackup.ps1" -Platform $B.Home -Repository $Repo -WhatIf
        $Repo | Should -Not -Exist
        (Get-ExoPlatform $B.Home).IsRunning | Should -BeTrue
    }
    It 'nightly: a full on the first night and on Sundays, incrementals otherwise, retention after each' {
        $monday = [datetime]'2026-11-23'
        (& "$Examples/Invoke-NightlyBackup.ps1" -Platform $B.Home -Repository $Repo -Today $monday).Type | Should -Be 'Full'
        (& "$Examples/Invoke-NightlyBackup.ps1" -Platform $B.Home -Repository $Repo -Today $monday.AddDays(1)).Type | Should -Be 'Incremental'
        (& "$Examples/Invoke-NightlyBackup.ps1" -Platform $B.Home -Repository $Repo -Today $monday.AddDays(6) -KeepDaily 1 -KeepWeekly 0 -KeepMonthly 0).Type | Should -Be 'Full'
        (Get-ExoPlatform $B.Home).IsRunning | Should -BeTrue
        # Retention kept the newest full; the first chain went.
        (Get-ExoSnapshot $Repo).Type | Should -Be @('Full')
    }
    It 'weekly test: restores the latest snapshot into scratch places and passes' {
        $r = & "$Examples/Test-WeeklyRestore.ps1" -Repository $Repo
        $r | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
        $r.Level | Select-Object -Unique | Should -Be 'Restore'
    }
    It 'before an upgrade: a tested full, eXo left stopped' {
        $s = & "$Examples/Invoke-PreUpgradeBackup.ps1" -Platform $B.Home -Repository $Repo
        $s.Type | Should -Be 'Full'
        (Get-ExoPlatform $B.Home).IsRunning | Should -BeFalse
        Start-ExoPlatform $B.Home -Wait -Timeout 120
    }
    It 'disaster recovery: -WhatIf changes nothing on the new server' {
        $new = New-Bundle 'new-server' -FileCount 5 -LargeFileCount 0
        $before = Get-TreeState $new.DataDir
        & "$Examples/Restore-OnNewServer.ps1" -Repository $Repo -Platform $new.Home -WhatIf
        Compare-TreeState $before (Get-TreeState $new.DataDir) | Should -BeNullOrEmpty
    }
    It 'disaster recovery: the latest snapshot restored into a fresh bundle on a new server, which then starts' {
        $expected = Get-TreeState $B.DataDir -Exclude 'jcr/swap', 'jta'
        Stop-ExoPlatform $B.Home   # the old server is gone: its ports are free for the restored server.xml
        $r = & "$Examples/Restore-OnNewServer.ps1" -Repository $Repo -Platform "$Root/new-server"
        $r.Component | Should -Contain 'DataDir'
        $r.Component | Should -Contain 'Configuration'
        Compare-TreeState $expected (Get-TreeState "$Root/new-server/gatein/data" -Exclude 'jcr/swap', 'jta') | Should -BeNullOrEmpty
        (Get-Content "$Root/new-server/gatein/conf/codec/codeckey.txt" -AsByteStream) | Should -Be (Get-Content "$($B.Home)/gatein/conf/codec/codeckey.txt" -AsByteStream)
        (Get-ExoPlatform "$Root/new-server").IsRunning | Should -BeTrue
    }
}
