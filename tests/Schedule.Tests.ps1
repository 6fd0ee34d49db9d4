# Register-ExoBackupSchedule: units systemd accepts, written only when asked, never for a runbook
# another account can change.
BeforeDiscovery { $NoAnalyze = -not (Get-Command systemd-analyze -CommandType Application -ErrorAction Ignore) }
BeforeAll {
    . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'schedule-tests'
    # Root-owned, like /usr/local/sbin: $Root's own folder is 0700 and root's.
    $Runbook = "$Root/nightly.ps1"
    Set-Content $Runbook 'param($Platform, $Repository) "night of $Platform into $Repository"'
    chmod 0700 $Runbook
}
AfterAll { Clear-TestRoot $Root }

Describe 'Register-ExoBackupSchedule' {
    It 'shows both units with -WhatIf and writes nothing' {
        $units = "$Root/units-whatif"
        New-Item -ItemType Directory $units | Out-Null
        # What if: goes to the host, not to a stream: a fresh pwsh's output holds it.
        $out = (Invoke-FreshPwsh "Import-Module '$env:EXOBACKUP_MODULE'; Register-ExoBackupSchedule '$Runbook' -UnitPath '$units' -WhatIf").Output
        $out | Should -Match 'OnCalendar=\*-\*-\* 02:15:00'
        $out | Should -Match 'Type=oneshot'
        Get-ChildItem $units | Should -BeNullOrEmpty
    }
    It 'writes a service and a timer that systemd-analyze verify accepts' -Skip:$NoAnalyze {
        $units = "$Root/units"
        New-Item -ItemType Directory $units | Out-Null
        $s = Register-ExoBackupSchedule $Runbook -ArgumentList '-Platform', '/opt/exo 100%', '-Repository', '/backup/$exo' -Name exo-test -OnCalendar 'Sun 03:00' -RandomizedDelay 60 -UnitPath $units
        $s.ServicePath | Should -Be "$units/exo-test.service"
        (Get-Content $s.TimerPath -Raw) | Should -Match 'Persistent=true'
        (Get-Content $s.ServicePath -Raw) | Should -Match ([regex]::Escape('"/opt/exo 100%%"'))
        (Get-Content $s.ServicePath -Raw) | Should -Match ([regex]::Escape('"/backup/$$exo"'))
        $r = & systemd-analyze verify $s.ServicePath $s.TimerPath 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($r -join "`n")
    }
    It 'writes units that systemd-analyze would refuse if they were wrong (the check can fail)' -Skip:$NoAnalyze {
        $units = "$Root/units-bad"
        $s = Register-ExoBackupSchedule $Runbook -Name exo-bad -OnCalendar 'every blue moon' -UnitPath $units
        $null = & systemd-analyze verify $s.TimerPath 2>&1
        $LASTEXITCODE | Should -Not -Be 0
    }
    It 'refuses a runbook that another account can change, and writes nothing' {
        $shared = "$Root/shared"
        New-Item -ItemType Directory $shared | Out-Null
        chmod 0777 $shared
        Copy-Item $Runbook "$shared/nightly.ps1"
        $units = "$Root/units-refused"
        $e = { Register-ExoBackupSchedule "$shared/nightly.ps1" -UnitPath $units } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.UnsafeScriptOwner*'
        $e.Exception.Message | Should -Match 'written by others'
        Test-Path $units | Should -BeFalse
        chown nobody "$Root/nightly-nobody.ps1" 2>$null
        Copy-Item $Runbook "$Root/nightly-nobody.ps1"; chown nobody "$Root/nightly-nobody.ps1"
        { Register-ExoBackupSchedule "$Root/nightly-nobody.ps1" -UnitPath $units } | Should -Throw -ErrorId 'ExoBackup.UnsafeScriptOwner,*'
    }
    It 'refuses an argument with a line break, which would add lines to the unit' {
        { Register-ExoBackupSchedule $Runbook -ArgumentList "x`nExecStartPre=/bin/evil" -UnitPath "$Root/units-nl" } | Should -Throw -ErrorId 'ExoBackup.InvalidArgument,*'
        Test-Path "$Root/units-nl" | Should -BeFalse
    }
}

Describe 'Runbooks run by cron or a timer' {
    It 'exit non-zero when the backup fails (through pwsh -File)' {
        $exe = [System.Environment]::ProcessPath
        $args = @(if ((Split-Path -Leaf $exe) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' }) + @('-NoProfile', '-NonInteractive', '-Command',
            "Import-Module '$env:EXOBACKUP_MODULE'; & '$(Join-Path $env:EXOBACKUP_TESTS '../examples/Invoke-NightlyBackup.ps1')' -Platform '$Root/no-such-bundle' -Repository '$Root/repo-cron'; exit `$LASTEXITCODE")
        $null = & $exe @args 2>&1
        $LASTEXITCODE | Should -Not -Be 0
        $file = @(if ((Split-Path -Leaf $exe) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' }) + @('-NoProfile', '-NonInteractive', '-File',
            (Join-Path $env:EXOBACKUP_TESTS '../examples/Invoke-NightlyBackup.ps1'), '-Platform', "$Root/no-such-bundle", '-Repository', "$Root/repo-cron")
        $null = & $exe @file 2>&1
        $LASTEXITCODE | Should -Not -Be 0
    }
}
