# Stop-/Start-ExoPlatform against a real Tomcat 10 running the sample bundle.
BeforeDiscovery { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Discovery }
BeforeAll { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'lifecycle-tests' }
AfterAll { Clear-TestRoot $Root }

Describe 'Start-ExoPlatform and Stop-ExoPlatform on a real Tomcat' -Skip:$NoTomcat {
    BeforeAll {
        $B = New-Bundle 'one' -FileCount 10 -LargeFileCount 0
    }
    It 'starts eXo, waits for "Server startup in", and sees it running' {
        $p = Start-ExoPlatform $B.Home -Wait -Timeout 120 -PassThru
        $p.IsRunning | Should -BeTrue
        $p.Pid | Should -BeGreaterThan 0
        Get-Content "$($B.Home)/temp/catalina.pid" | Should -Be "$($p.Pid)"
        (Invoke-WebRequest "http://127.0.0.1:$($B.HttpPort)/" -UseBasicParsing).StatusCode | Should -Be 200
        (Get-ExoPlatform $B.Home).IsRunning | Should -BeTrue
    }
    It 'leaves a running eXo alone when asked to start it again' {
        $before = (Get-ExoPlatform $B.Home).Pid
        (Start-ExoPlatform $B.Home -Wait -PassThru).Pid | Should -Be $before
    }
    It 'does nothing with -WhatIf' {
        Stop-ExoPlatform $B.Home -WhatIf
        (Get-ExoPlatform $B.Home).IsRunning | Should -BeTrue
    }
    It 'stops eXo through the shutdown port and sees it stopped, ports closed' {
        $p = Get-ExoPlatform $B.Home | Stop-ExoPlatform -PassThru -Verbose 4>&1
        $verbose = $p | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($verbose.Message -join "`n") | Should -Match 'shutdown command'
        $p = $p | Where-Object { $_ -is [ExoBackup.Platform] }
        $p.IsRunning | Should -BeFalse
        (Get-ExoPlatform $B.Home).IsRunning | Should -BeFalse
        "$($B.Home)/temp/catalina.pid" | Should -Not -Exist
        { Invoke-WebRequest "http://127.0.0.1:$($B.HttpPort)/" -TimeoutSec 2 } | Should -Throw
    }
    It 'treats stopping a stopped eXo as success' {
        { Stop-ExoPlatform $B.Home -ErrorAction Stop } | Should -Not -Throw
    }
    It 'starts despite a stale PID file' {
        Set-Content "$($B.Home)/temp/catalina.pid" '4194000'
        (Get-ExoPlatform $B.Home).IsRunning | Should -BeFalse
        (Start-ExoPlatform $B.Home -Wait -Timeout 120 -PassThru).IsRunning | Should -BeTrue
        Stop-ExoPlatform $B.Home
    }
    It 'stops by SIGTERM when the shutdown port is disabled' {
        (Get-Content "$($B.Home)/conf/server.xml") -replace "<Server port=`"$($B.ShutdownPort)`"", '<Server port="-1"' | Set-Content "$($B.Home)/conf/server.xml"
        Start-ExoPlatform $B.Home -Wait -Timeout 120
        $out = Stop-ExoPlatform $B.Home -Verbose 4>&1
        ($out.Message -join "`n") | Should -Match 'SIGTERM'
        (Get-ExoPlatform $B.Home).IsRunning | Should -BeFalse
    }
    It 'refuses to start when the HTTP port is taken, and says by what' {
        $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, $B.HttpPort)
        $l.Start()
        try {
            { Start-ExoPlatform $B.Home -Wait -ErrorAction Stop } | Should -Throw -ErrorId 'ExoBackup.PortInUse,ExoBackup.Commands.StartExoPlatformCommand'
        } finally { $l.Stop() }
    }
}

Describe 'A platform that does not stop in time' -Skip:($NoTomcat -or -not (Get-Command javac -ErrorAction Ignore)) {
    BeforeAll {
        $S = New-Bundle 'slow' -FileCount 5 -LargeFileCount 0 -StopDelaySeconds 60
        Start-ExoPlatform $S.Home -Wait -Timeout 120
    }
    It 'fails with ExoBackup.StopTimeout and leaves it running without -Kill' {
        $err = $null
        try { Stop-ExoPlatform $S.Home -Timeout 3 } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.StopTimeout,*'
        $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
        (Get-ExoPlatform $S.Home).IsRunning | Should -BeTrue
    }
    It 'kills it after the timeout with -Kill' {
        $p = Stop-ExoPlatform $S.Home -Timeout 3 -Kill -PassThru -WarningVariable w -WarningAction SilentlyContinue
        $p.IsRunning | Should -BeFalse
        ($w -join ' ') | Should -Match 'killing'
    }
}

Describe 'Several platforms at once' -Skip:$NoTomcat {
    BeforeAll {
        $N1 = New-Bundle 'node1' -FileCount 5 -LargeFileCount 0
        $N2 = New-Bundle 'node2' -FileCount 5 -LargeFileCount 0
    }
    It 'starts nodes one after another and stops them in parallel' {
        $N1.Home, $N2.Home | Start-ExoPlatform -Wait -Timeout 120
        @(Get-ExoPlatform $N1.Home, $N2.Home | Where-Object IsRunning).Count | Should -Be 2
        $stopped = Get-ExoPlatform $N1.Home, $N2.Home | Stop-ExoPlatform -PassThru
        $stopped.IsRunning | Should -Be @($false, $false)
    }
}

Describe 'Who eXo runs as, when ExoBackup runs as root' -Skip:($NoTomcat -or $IsWindows -or (id -u) -ne '0') {
    # Finding 2.2: the eXo account edits bin/setenv-customize.sh; a root start ran it as root and left eXo running as root.
    BeforeAll {
        function Get-ProcessUid([int] $ProcessId) { [int]((Get-Content "/proc/$ProcessId/status" | Where-Object { $_ -like 'Uid:*' }) -split '\s+')[1] }
        function Add-UidRecorder($Bundle) {
            # What the eXo account would append: it records who runs its code.
            Add-Content "$($Bundle.Home)/bin/setenv-customize.sh" 'id -u > "$CATALINA_BASE/logs/setenv-uid"'
        }
    }
    It 'runs the setenv script and the JVM as the bundle owner (nobody), not as root' {
        $b = New-Bundle 'owned' -FileCount 5 -LargeFileCount 0
        Add-UidRecorder $b
        $nobody = [int](id -u nobody)
        try {
            $p = Start-ExoPlatform $b.Home -Wait -Timeout 120 -PassThru
            (Get-Content "$($b.Home)/logs/setenv-uid").Trim() | Should -Be "$nobody"
            Get-ProcessUid $p.Pid | Should -Be $nobody
        }
        finally { Stop-ExoPlatform $b.Home -Kill -Timeout 30 | Out-Null }
        # Backup-ExoPlatform -StopPlatform restarts it as nobody too.
        Start-ExoPlatform $b.Home -Wait -Timeout 120 | Out-Null
        try {
            $s = Backup-ExoPlatform -Platform $b.Home -Repository "$Root/repo-owned" -StopPlatform -Component Configuration
            $s.Status | Should -Be 'Complete'
            Get-ProcessUid (Get-ExoPlatform $b.Home).Pid | Should -Be $nobody
        }
        finally { Stop-ExoPlatform $b.Home -Kill -Timeout 30 | Out-Null }
    }
    It 'refuses a bundle owned by root unless -RunAs root, before anything runs' {
        $b = New-Bundle 'rootowned' -FileCount 5 -LargeFileCount 0 -Owner root
        Add-UidRecorder $b
        { Start-ExoPlatform $b.Home -Wait -Timeout 60 } | Should -Throw -ErrorId 'ExoBackup.BundleOwnedByRoot,*'
        "$($b.Home)/logs/setenv-uid" | Should -Not -Exist
        try {
            $p = Start-ExoPlatform $b.Home -RunAs root -Wait -Timeout 120 -PassThru
            Get-ProcessUid $p.Pid | Should -Be 0 -Because '-RunAs root says so'
        }
        finally { Stop-ExoPlatform $b.Home -Kill -Timeout 30 | Out-Null }
    }
    It 'refuses a script of a third account, and one others can write' {
        $b = New-Bundle 'third' -FileCount 5 -LargeFileCount 0
        Add-UidRecorder $b
        chown 12345 "$($b.Home)/bin/setenv-customize.sh"
        { Start-ExoPlatform $b.Home -Wait -Timeout 60 } | Should -Throw -ErrorId 'ExoBackup.UnsafeScriptOwner,*'
        chown nobody "$($b.Home)/bin/setenv-customize.sh"; chmod o+w "$($b.Home)/bin/setenv-customize.sh"
        { Start-ExoPlatform $b.Home -Wait -Timeout 60 } | Should -Throw -ErrorId 'ExoBackup.UnsafeScriptOwner,*'
        "$($b.Home)/logs/setenv-uid" | Should -Not -Exist
        (Get-ExoPlatform $b.Home).IsRunning | Should -BeFalse
    }
    It 'refuses -StopPlatform before stopping eXo when it could not start it again' {
        $b = New-Bundle 'norestart' -FileCount 5 -LargeFileCount 0
        $p = Start-ExoPlatform $b.Home -Wait -Timeout 120 -PassThru
        try {
            { Backup-ExoPlatform -Platform $b.Home -Repository "$Root/repo-norestart" -StopPlatform -RunAs no-such-account } | Should -Throw -ErrorId 'ExoBackup.RunAsNotFound,*'
            (Get-ExoPlatform $b.Home).Pid | Should -Be $p.Pid -Because 'eXo was not stopped'
        }
        finally { Stop-ExoPlatform $b.Home -Kill -Timeout 30 | Out-Null }
    }
}
