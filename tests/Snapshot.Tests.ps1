# Snapshots through the cmdlets: composed runbooks, chains, verification, restore, retention, interruptions.
BeforeDiscovery { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Discovery }
BeforeAll {
    . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'snapshot-tests'
}
AfterAll { Clear-TestRoot $Root }

Describe 'A composed runbook' {
    BeforeAll {
        $B = New-Bundle 'runbook' -FileCount 300 -LargeFileCount 1 -LargeFileMB 1
        $Repo = "$Root/repo-runbook"
        $Before = Get-TreeState $B.DataDir -Exclude $NoBackup
        $S = New-ExoSnapshot -Repository $Repo -Platform (Get-ExoPlatform $B.Home)
        $DataPart = $S | Backup-ExoDataDir
        $ConfPart = $S | Backup-ExoConfiguration
        $Done = $S | Complete-ExoSnapshot
    }
    It 'opens an InProgress snapshot under <id>.partial, listed only with -IncludeIncomplete' {
        $S.Status | Should -Be 'InProgress'
        $S.Id | Should -Match '^\d{8}T\d{6}Z-full$'
        $S.Path | Should -Be "$Repo/$($S.Id).partial"
    }
    It 'emits parts with counts, sizes and times' {
        $DataPart.Component | Should -Be 'DataDir'
        $DataPart.ItemCount | Should -BeGreaterThan 300
        $DataPart.SourceBytes | Should -BeGreaterThan 1MB
        $DataPart.StoredBytes | Should -BeGreaterThan 0
        $DataPart.Duration | Should -BeOfType [timespan]
        $DataPart.PlatformRunningAtStart | Should -BeFalse
        $ConfPart.Details.codecKeySha256 | Should -Match '^[0-9a-f]{64}$'
    }
    It 'completes an Offline snapshot that Get-ExoSnapshot lists' {
        $Done.Status | Should -Be 'Complete'
        $Done.Consistency | Should -Be 'Offline'
        (Get-ExoSnapshot $Repo).Id | Should -Be $S.Id
        (Get-ExoSnapshot $Repo -Latest).Parts.Component | Should -Be @('Configuration', 'DataDir')
        "$Repo/$($S.Id).partial" | Should -Not -Exist
        "$Repo/lock.json" | Should -Not -Exist
    }
    It 'writes a manifest that records every part and the platform' {
        $m = Get-Content "$($Done.Path)/manifest.json" -Raw | ConvertFrom-Json
        $m.type | Should -Be 'Full'
        $m.platform.home | Should -Be $B.Home
        $m.platform.version | Should -Be '7.0.0'
        $m.consistency | Should -Be 'Offline'
        $m.parts.component | Should -Contain 'DataDir'
        ($m.parts | Where-Object component -eq 'DataDir').files.path | Should -Contain 'datadir.tar.zst'
    }
    It 'can be verified by hand with sha256sum -c and read with tar --zstd' {
        Push-Location $Done.Path
        try { sha256sum -c --quiet SHA256SUMS; $LASTEXITCODE | Should -Be 0 } finally { Pop-Location }
        $names = tar --zstd -tf "$($Done.Path)/datadir.tar.zst"
        $names | Should -Contain 'hsql/exo-plf.script'
        $names | Where-Object { $_ -like 'jcr/swap*' } | Should -BeNullOrEmpty
        tar --zstd -tf "$($Done.Path)/configuration.tar.zst" | Should -Contain 'gatein/conf/codec/codeckey.txt'
    }
    It 'passes Test-ExoSnapshot at every level' {
        foreach ($level in 'Checksum', 'Archive', 'Restore') {
            $r = Test-ExoSnapshot -Repository $Repo -Id $S.Id -Level $level
            $r | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty -Because "$level should pass"
            $r.Level | Select-Object -Unique | Should -Be $level
        }
    }
    It 'restores the data dir as it was, keeping what it replaced' {
        Remove-Item -Recurse -Force "$($B.DataDir)/files"
        Set-Content "$($B.DataDir)/hsql/exo-plf.script" 'damaged'
        $r = Get-ExoSnapshot $Repo -Latest | Restore-ExoSnapshot -Component DataDir -Confirm:$false
        $r.Target | Should -Be $B.DataDir
        $r.PreviousDataKeptAt | Should -BeLike "$($B.DataDir).pre-restore-*"
        Compare-TreeState $Before (Get-TreeState $B.DataDir) | Should -BeNullOrEmpty
        Get-Content "$($r.PreviousDataKeptAt)/hsql/exo-plf.script" | Should -Be 'damaged'
    }
}

Describe 'Chains: differential and incremental' {
    BeforeAll {
        $B = New-Bundle 'chain' -FileCount 300 -LargeFileCount 1 -LargeFileMB 1
        $Repo = "$Root/repo-chain"
        $Full = Invoke-Backup $B $Repo Full
        Set-Content "$($B.DataDir)/files/added.txt" 'added'
        Remove-Item -Force "$($B.DataDir)/files/00/f000000.bin"
        $Inc1 = Invoke-Backup $B $Repo Incremental
        Move-Item "$($B.DataDir)/hsql/exo-plf.log" "$($B.DataDir)/hsql/exo-plf.log.renamed"
        Set-Content "$($B.DataDir)/files/added.txt" 'edited'
        $Inc2 = Invoke-Backup $B $Repo Incremental
        $Final = Get-TreeState $B.DataDir -Exclude $NoBackup
        Set-Content "$($B.DataDir)/files/diff.txt" 'diff'
        $Diff = Invoke-Backup $B $Repo Differential
    }
    It 'links each snapshot to its parent' {
        $Inc1.Parent | Should -Be $Full.Id
        $Inc2.Parent | Should -Be $Inc1.Id
        $Diff.Parent | Should -Be $Full.Id
        (Get-ExoSnapshot $Repo -Type Incremental).Id | Should -Be @($Inc1.Id, $Inc2.Id)
    }
    It 'archives only what changed' {
        ($Inc1.Parts | Where-Object Component -eq DataDir).ChangedItems | Should -Be 1
        ($Inc1.Parts | Where-Object Component -eq DataDir).DeletedItems | Should -Be 1
        ($Inc2.Parts | Where-Object Component -eq DataDir).ChangedItems | Should -Be 2
    }
    It 'restores the end of an incremental chain into another folder' {
        $target = "$Root/chain-restored"
        $r = Restore-ExoSnapshot -Repository $Repo -Id $Inc2.Id -Component DataDir -DataDir $target -Confirm:$false
        $r.PreviousDataKeptAt | Should -BeNullOrEmpty
        Compare-TreeState $Final (Get-TreeState $target) | Should -BeNullOrEmpty
    }
    It 'restores only matching files with -Path, keeping those it replaces' {
        Set-Content "$($B.DataDir)/files/added.txt" 'changed after the backup'
        $r = Restore-ExoSnapshot -Repository $Repo -Id $Inc2.Id -Component DataDir -Include 'files/added.txt' -Confirm:$false
        $r.Items | Should -Be 1
        $r.ItemKind | Should -Be "files"
        Get-Content "$($B.DataDir)/files/added.txt" | Should -Be 'edited'
        Get-Content "$($r.PreviousDataKeptAt)/files/added.txt" | Should -Be 'changed after the backup'
    }
    It 'refuses to remove a snapshot others depend on' {
        { Remove-ExoSnapshot -Repository $Repo -Id $Inc1.Id -Confirm:$false } | Should -Throw -ErrorId 'ExoBackup.SnapshotHasDependents,*'
        (Get-ExoSnapshot $Repo).Count | Should -Be 4
    }
    It 'applies retention without breaking a chain, and -WhatIf removes nothing' {
        Remove-ExoSnapshot -Repository $Repo -KeepLast 1 -WhatIf | Should -BeNullOrEmpty
        (Get-ExoSnapshot $Repo).Count | Should -Be 4
        $removed = Remove-ExoSnapshot -Repository $Repo -KeepLast 1 -Confirm:$false -PassThru
        $removed.Id | Should -Be @($Inc2.Id, $Inc1.Id)
        (Get-ExoSnapshot $Repo).Id | Should -Be @($Full.Id, $Diff.Id)
        Get-ExoSnapshot $Repo -Latest | Test-ExoSnapshot -Level Archive | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
    }
    It 'says it needs a policy' {
        { Remove-ExoSnapshot -Repository $Repo -Confirm:$false } | Should -Throw -ErrorId 'ExoBackup.NoRetentionPolicy,*'
    }
}

Describe 'Damage and refusal' {
    BeforeAll {
        $B = New-Bundle 'damage' -FileCount 300 -LargeFileCount 1 -LargeFileMB 1
        $Repo = "$Root/repo-damage"
        $Snap = Invoke-Backup $B $Repo Full
    }
    It 'catches a flipped byte, names the part and file, and stops a script with -ErrorAction Stop' {
        $file = "$($Snap.Path)/datadir.tar.zst"
        $bytes = [System.IO.File]::ReadAllBytes($file)
        $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 1
        [System.IO.File]::WriteAllBytes($file, $bytes)
        $r = Test-ExoSnapshot -Repository $Repo -Id $Snap.Id -ErrorAction SilentlyContinue -ErrorVariable err
        $bad = $r | Where-Object { -not $_.Passed }
        $bad.Part | Should -Be 'DataDir'
        $bad.File | Should -Be 'datadir.tar.zst'
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ExoBackup.SnapshotVerificationFailed,*'
        { Test-ExoSnapshot -Repository $Repo -Id $Snap.Id -ErrorAction Stop } | Should -Throw
        $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 1
        [System.IO.File]::WriteAllBytes($file, $bytes)
    }
    It 'refuses to restore a damaged snapshot before touching the target' {
        Add-Content "$($Snap.Path)/configuration.tar.zst" 'x'
        $before = Get-TreeState $B.DataDir
        { Restore-ExoSnapshot -Repository $Repo -Id $Snap.Id -Confirm:$false } | Should -Throw -ErrorId 'ExoBackup.ChecksumMismatch,*'
        Compare-TreeState $before (Get-TreeState $B.DataDir) | Should -BeNullOrEmpty
        Get-ChildItem (Split-Path $B.DataDir) -Filter '*.restore-*' | Should -BeNullOrEmpty
    }
    It 'stages every component before replacing any: a damaged data-dir archive leaves the configuration in place too' {
        $repo5 = "$Root/repo-twophase"
        $s = Invoke-Backup $B $repo5 Full
        $file = "$($s.Path)/datadir.tar.zst"
        $bytes = [System.IO.File]::ReadAllBytes($file)
        $bytes[$bytes.Length - 100] = $bytes[$bytes.Length - 100] -bxor 0xff
        [System.IO.File]::WriteAllBytes($file, $bytes)
        Set-Content "$($B.Home)/gatein/conf/exo.properties" 'changed after the backup'
        $err = $null
        try { Restore-ExoSnapshot -Repository $repo5 -Id $s.Id -Confirm:$false } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.ChecksumMismatch,*'
        Get-Content "$($B.Home)/gatein/conf/exo.properties" | Should -Be 'changed after the backup'
        Get-ChildItem "$($B.Home)/gatein" | Where-Object Name -like '*.restore-*' | Should -BeNullOrEmpty
        Get-ChildItem "$($B.Home)/gatein" | Where-Object Name -like '*.pre-restore-*' | Should -BeNullOrEmpty
    }
    It 'says which snapshot is missing when a chain is broken' {
        $repo2 = "$Root/repo-broken"
        $full = Invoke-Backup $B $repo2 Full
        Set-Content "$($B.DataDir)/files/x.txt" 'x'
        $inc = Invoke-Backup $B $repo2 Incremental
        Remove-Item -Recurse $full.Path
        $r = Test-ExoSnapshot -Repository $repo2 -Id $inc.Id -ErrorAction SilentlyContinue
        ($r | Where-Object Part -eq 'Chain').Message | Should -Match $full.Id
        { Restore-ExoSnapshot -Repository $repo2 -Id $inc.Id -Confirm:$false } | Should -Throw -ErrorId 'ExoBackup.ChainBroken,*'
    }
    It 'does nothing with -WhatIf' {
        $repo3 = "$Root/repo-whatif"
        $s = Invoke-Backup $B $repo3 Full
        Set-Content "$($B.DataDir)/files/whatif.txt" 'kept'
        Restore-ExoSnapshot -Repository $repo3 -Id $s.Id -WhatIf
        Get-Content "$($B.DataDir)/files/whatif.txt" | Should -Be 'kept'
    }
    It 'warns when the codec key in the snapshot differs from the one in place' {
        $repo4 = "$Root/repo-codec"
        $s = Invoke-Backup $B $repo4 Full
        Set-Content "$($B.Home)/gatein/conf/codec/codeckey.txt" 'another key'
        $null = Restore-ExoSnapshot -Repository $repo4 -Id $s.Id -Component Configuration -DiscardReplaced -Confirm:$false -WarningVariable w -WarningAction SilentlyContinue
        ($w -join ' ') | Should -Match 'codec key'
        Get-Content "$($B.Home)/gatein/conf/codec/codeckey.txt" -Raw | Should -Not -Be "another key`n"
        Get-ChildItem "$($B.Home)/gatein" -Filter 'conf.pre-restore-*' | Should -BeNullOrEmpty -Because '-Force deletes what it replaces'
    }
}

Describe 'A running eXo' -Skip:$NoTomcat {
    BeforeAll {
        $B = New-Bundle 'running' -FileCount 50 -LargeFileCount 1 -LargeFileMB 1
        $Repo = "$Root/repo-running"
        Start-ExoPlatform $B.Home -Wait -Timeout 120
    }
    AfterAll { Stop-ExoPlatform $B.Home -Kill -Timeout 10 }
    It 'marks parts taken while it runs, and Complete-ExoSnapshot refuses them without -AllowOnline' {
        $s = New-ExoSnapshot $Repo $B.Home
        $p = $s | Backup-ExoDataDir -WarningVariable w -WarningAction SilentlyContinue
        $p.PlatformRunningAtStart | Should -BeTrue
        ($w -join ' ') | Should -Match 'running'
        { $s | Complete-ExoSnapshot } | Should -Throw -ErrorId 'ExoBackup.SnapshotOnline,*'
        ($s | Complete-ExoSnapshot -AllowOnline).Consistency | Should -Be 'Online'
    }
    It 'warns when -Latest picks an Online snapshot' {
        $null = Get-ExoSnapshot $Repo -Latest -WarningVariable w -WarningAction SilentlyContinue
        ($w -join ' ') | Should -Match 'is Online: it was taken while eXo ran'
    }
    It 'refuses to restore under it' {
        $s = Get-ExoSnapshot $Repo -Latest
        { $s | Restore-ExoSnapshot -Confirm:$false } | Should -Throw -ErrorId 'ExoBackup.PlatformRunning,*'
    }
    It 'warns once for all the parts of Backup-ExoPlatform -AllowOnline, naming them' {
        $s = Backup-ExoPlatform -Platform $B.Home -Repository "$Root/repo-running-online" -Component DataDir, Configuration -AllowOnline -WarningVariable w -WarningAction SilentlyContinue
        $s.Consistency | Should -Be 'Online'
        @($w | Where-Object { "$_" -match 'eXo is running' }).Count | Should -Be 1
        ($w -join ' ') | Should -Match 'the data dir, the configuration are taken while it writes'
    }
    It 'refuses before asking for confirmation, and -WhatIf says the real run would be refused' {
        $s = Get-ExoSnapshot $Repo -Latest
        # -Confirm would prompt (and fail in this non-interactive host) if the check came after the question.
        { $s | Restore-ExoSnapshot -Confirm } | Should -Throw -ErrorId 'ExoBackup.PlatformRunning,*'
        $s | Restore-ExoSnapshot -WhatIf -WarningVariable w -WarningAction SilentlyContinue
        ($w -join ' ') | Should -Match 'would be refused: eXo at .* is running'
    }
}

Describe 'Interruptions' {
    BeforeAll {
        $B = New-Bundle 'interrupt' -FileCount 200 -LargeFileCount 6 -LargeFileMB 64
    }
    It 'leaves no complete snapshot and a usable repository when the backup process is killed' {
        $repo = "$Root/repo-kill"
        $good = Invoke-Backup (New-Bundle 'small' -FileCount 20 -LargeFileCount 0) $repo Full
        $proc = Invoke-FreshPwsh -NoWait "Import-Module '$env:EXOBACKUP_MODULE'; `$s = New-ExoSnapshot '$repo' '$($B.Home)'; `$s | Backup-ExoDataDir -CompressionLevel 19"
        Wait-Until { Get-ChildItem "$repo/*.partial/datadir.tar.zst" -ErrorAction Ignore } -Because 'the archive to be started'
        Start-Sleep -Milliseconds 300
        $proc.Kill($true); $proc.WaitForExit()
        (Get-ExoSnapshot $repo).Id | Should -Be $good.Id
        (Get-ExoSnapshot $repo -IncludeIncomplete | Where-Object Status -eq 'InProgress') | Should -HaveCount 1
        Test-ExoSnapshot -Repository $repo -Id $good.Id | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
        # The killed process is gone from this host: its lock is broken without -BreakLock, with a warning.
        $next = New-ExoSnapshot $repo $B.Home -WarningVariable broke -WarningAction SilentlyContinue
        "$broke" | Should -Match 'Breaking the stale lock of .*that process is gone' 
        $null = $next | Backup-ExoConfiguration
        ($next | Complete-ExoSnapshot).Status | Should -Be 'Complete'
        (Remove-ExoSnapshot -Repository $repo -IncompleteOlderThan 0 -Confirm:$false -PassThru).Status | Should -Be 'InProgress'
        Get-ChildItem $repo -Filter '*.partial' | Should -BeNullOrEmpty
    }
    It 'replaces no folder that the bundle''s settings or a forged platform.home name unless the bundle''s owner owns it (finding 3.5)' -Skip:($IsWindows -or (id -u) -ne '0') {
        $victim = "$Root/roots-folder"
        New-Item -ItemType Directory -Force $victim | Out-Null
        Set-Content "$victim/keep.txt" 'root''s'
        # The eXo account of another bundle points its data dir at root's folder (its setenv-customize.sh is its own).
        $evil = New-Bundle 'evil' -FileCount 5 -LargeFileCount 0
        Add-Content "$($evil.Home)/bin/setenv-customize.sh" "EXO_DATA_DIR=$victim"
        (Get-ExoPlatform $evil.Home).DataDir | Should -Be $victim
        $repo = "$Root/repo-home"
        $snap = Invoke-Backup (New-Bundle 'home-source' -FileCount 5 -LargeFileCount 0) $repo Full
        Edit-SnapshotManifest $snap.Path { param($m) $m.platform.home = $evil.Home }
        $err = $null
        try { Restore-ExoSnapshot -Repository $repo -Id $snap.Id -Component DataDir -DiscardReplaced -Confirm:$false } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.UnsafeRestoreTarget,*'
        "$err" | Should -Match ([regex]::Escape($victim))
        "$victim/keep.txt" | Should -Exist
        # The same with -Platform: the settings are the eXo account's either way.
        { Restore-ExoSnapshot -Repository $repo -Id $snap.Id -Platform $evil.Home -Component DataDir -DiscardReplaced -Confirm:$false } | Should -Throw -ErrorId 'ExoBackup.UnsafeRestoreTarget,*'
        Get-ChildItem $victim | ForEach-Object Name | Should -Be 'keep.txt'
        # Named by the operator with -DataDir, a folder of root's is the operator's choice.
        $r = Restore-ExoSnapshot -Repository $repo -Id $snap.Id -Platform $evil.Home -Component DataDir -DataDir "$Root/operator-choice" -Confirm:$false -WarningAction SilentlyContinue
        $r.Target | Should -Be "$Root/operator-choice"
    }
    It 'leaves nothing behind when a nightly run is refused at completion, so the next unattended run succeeds' {
        # As cron would: two runs in fresh processes, no -BreakLock. The first sees a file grow while it is read (not Offline).
        $repo = "$Root/repo-nightly"
        $nightly = New-Bundle 'nightly' -FileCount 20 -LargeFileCount 0
        $grow = "$($nightly.DataDir)/files/growing.bin"
        [System.IO.File]::WriteAllBytes($grow, [byte[]]::new(64MB))
        $psi = [System.Diagnostics.ProcessStartInfo]::new('bash')
        foreach ($a in '-c', "while :; do head -c 4096 /dev/zero >> '$grow'; done") { $psi.ArgumentList.Add($a) }
        $writer = [System.Diagnostics.Process]::Start($psi)
        Wait-Until { (Get-Item $grow).Length -gt 64MB } -Because 'the writer to be appending'
        try { $first = Invoke-FreshPwsh "Import-Module '$env:EXOBACKUP_MODULE'; Backup-ExoPlatform -Platform '$($nightly.Home)' -Repository '$repo'" }
        finally { $writer.Kill(); $writer.WaitForExit() }
        $first.ExitCode | Should -Not -Be 0
        $first.Output | Should -Match 'not consistent'
        "$repo/lock.json" | Should -Not -Exist
        Get-ChildItem $repo -Filter '*.partial' | Should -BeNullOrEmpty
        Remove-Item -Force $grow
        $second = Invoke-FreshPwsh "Import-Module '$env:EXOBACKUP_MODULE'; (Backup-ExoPlatform -Platform '$($nightly.Home)' -Repository '$repo').Status"
        $second.ExitCode | Should -Be 0 -Because $second.Output
        $second.Output.Trim() | Should -Be 'Complete'
    }
    It 'breaks, with a warning and without -BreakLock, the lock of a process that is gone from this host' {
        $repo = "$Root/repo-dead-lock"
        $dead = New-Bundle 'dead-lock' -FileCount 5 -LargeFileCount 0
        $null = Invoke-Backup $dead $repo Full
        $killed = Invoke-FreshPwsh -NoWait "Import-Module '$env:EXOBACKUP_MODULE'; New-ExoSnapshot '$repo' '$($dead.Home)' | Out-Null; Start-Sleep 60"
        Wait-Until { Test-Path "$repo/lock.json" } -Because 'the lock to be taken'
        $killed.Kill($true); $killed.WaitForExit()
        $run = Invoke-FreshPwsh "Import-Module '$env:EXOBACKUP_MODULE'; (Backup-ExoPlatform -Platform '$($dead.Home)' -Repository '$repo' -Type Incremental).Status"
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -Match 'Breaking the stale lock'
        $run.Output | Should -Match 'Complete'
        (Remove-ExoSnapshot -Repository $repo -IncompleteOlderThan 0 -Confirm:$false -PassThru).Status | Should -Be 'InProgress'
        Get-ChildItem $repo -Filter '*.partial' | Should -BeNullOrEmpty
    }
    It 'takes -IncompleteOlderThan as days when it is a number, as it is when a TimeSpan' {
        $cmd = Get-Command Remove-ExoSnapshot
        $t = $cmd.Parameters['IncompleteOlderThan'].Attributes | Where-Object { $_ -is [System.Management.Automation.ArgumentTransformationAttribute] }
        $t | Should -Not -BeNullOrEmpty
        $t.Transform($ExecutionContext, 7) | Should -Be ([TimeSpan]::FromDays(7))
        $t.Transform($ExecutionContext, '0.5') | Should -Be ([TimeSpan]::FromHours(12))
        $t.Transform($ExecutionContext, '1.12:00:00') | Should -Be ([TimeSpan]::FromHours(36))
        $t.Transform($ExecutionContext, [TimeSpan]::FromMinutes(5)) | Should -Be ([TimeSpan]::FromMinutes(5))
    }
    It 'stops on Ctrl+C (pipeline stop), leaving the snapshot open for this session only' {
        $repo = "$Root/repo-stop"
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$env:EXOBACKUP_MODULE'; `$s = New-ExoSnapshot '$repo' '$($B.Home)'; `$s | Backup-ExoDataDir -CompressionLevel 19")
        $async = $ps.BeginInvoke()
        Wait-Until { Get-ChildItem "$repo/*.partial/datadir.tar.zst" -ErrorAction Ignore } -Because 'the archive to be started'
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
        $ps.Dispose()
        Get-ExoSnapshot $repo | Should -BeNullOrEmpty
        Get-ChildItem "$repo/*.partial" -Filter 'datadir.tar.zst' | Should -BeNullOrEmpty -Because 'a stopped part removes what it wrote'
        { New-ExoSnapshot $repo $B.Home } | Should -Throw -ErrorId 'ExoBackup.SnapshotStillOpen,*'
        Get-ExoSnapshot $repo -IncludeIncomplete | Remove-ExoSnapshot -Confirm:$false
        (New-ExoSnapshot $repo $B.Home).Status | Should -Be 'InProgress'
    }
}

Describe 'Progress' {
    It 'reports bytes, items, rate and time left while backing up, then completes its bar' {
        $b = New-Bundle 'progress' -FileCount 2000 -LargeFileCount 4 -LargeFileMB 48
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$env:EXOBACKUP_MODULE'; `$s = New-ExoSnapshot '$Root/repo-progress' '$($b.Home)'; `$null = `$s | Backup-ExoDataDir -CompressionLevel 15")
        $null = $ps.Invoke()
        $ps.HadErrors | Should -BeFalse
        $records = @($ps.Streams.Progress)
        $ps.Dispose()
        $working = $records | Where-Object { $_.RecordType -eq 'Processing' -and $_.Activity -like 'Backing up DataDir*' }
        $working | Should -Not -BeNullOrEmpty
        $working[-1].StatusDescription | Should -Match 'MiB of .* items, .*/s'
        $working[-1].PercentComplete | Should -BeGreaterThan 0
        $working | Where-Object SecondsRemaining -ge 0 | Should -Not -BeNullOrEmpty
        $records | Where-Object { $_.RecordType -eq 'Completed' -and $_.Activity -like 'Backing up DataDir*' } | Should -Not -BeNullOrEmpty
    }
}

Describe 'A full disk' -Skip:($IsWindows -or (id -u) -ne '0') {
    BeforeAll {
        $B = New-Bundle 'fulldisk' -FileCount 50 -LargeFileCount 2 -LargeFileMB 8
        $Mount = "$Root/small-disk"
        New-Item -ItemType Directory -Force $Mount | Out-Null
        mount -t tmpfs -o size=3m tmpfs $Mount
        $Mounted = $LASTEXITCODE -eq 0
    }
    AfterAll { if ($Mounted) { umount $Mount } }
    It 'fails a backup with ExoBackup.DiskFull and leaves no complete snapshot' {
        if (-not $Mounted) { Set-ItResult -Skipped -Because 'tmpfs could not be mounted' }
        $s = New-ExoSnapshot "$Mount/repo" $B.Home
        $err = $null
        try { $s | Backup-ExoDataDir } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.DiskFull,*'
        $err.ErrorDetails.RecommendedAction | Should -Match 'Free space'
        Get-ExoSnapshot "$Mount/repo" | Should -BeNullOrEmpty
        Get-ChildItem "$($s.Path)" -Filter '*.zst' | Should -BeNullOrEmpty -Because 'the failed part gives its space back'
        $s | Remove-ExoSnapshot -Confirm:$false
    }
    It 'refuses a trial restore into a scratch folder too small for it, before writing anything' {
        if (-not $Mounted) { Set-ItResult -Skipped -Because 'tmpfs could not be mounted' }
        $s = Invoke-Backup $B "$Root/repo-scratch" Full
        $e = { Test-ExoSnapshot -Repository "$Root/repo-scratch" -Id $s.Id -Level Restore -ScratchPath "$Mount/scratch" } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.ScratchTooSmall,*'
        $e.Exception.Message | Should -Match 'needs about [\d.]+ MiB'
        @(Get-ChildItem "$Mount/scratch" -ErrorAction Ignore) | Should -BeNullOrEmpty
        # The same test with room passes, in the folder given.
        (Test-ExoSnapshot -Repository "$Root/repo-scratch" -Id $s.Id -Level Restore -ScratchPath "$Root/scratch-room" | Where-Object { -not $_.Passed }) | Should -BeNullOrEmpty
        @(Get-ChildItem "$Root/scratch-room") | Should -BeNullOrEmpty -Because 'the trial restore removes what it wrote'
    }
    It 'fails a restore onto a full disk cleanly and leaves the target unchanged' {
        if (-not $Mounted) { Set-ItResult -Skipped -Because 'tmpfs could not be mounted' }
        $s = Invoke-Backup $B "$Root/repo-fulldisk" Full
        New-Item -ItemType Directory "$Mount/data" | Out-Null
        Set-Content "$Mount/data/keep.txt" 'keep me'
        $err = $null
        try { Restore-ExoSnapshot -Repository "$Root/repo-fulldisk" -Id $s.Id -Component DataDir -DataDir "$Mount/data" -Confirm:$false } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.DiskFull,*'
        Get-Content "$Mount/data/keep.txt" | Should -Be 'keep me'
        (Get-ChildItem "$Mount/data").Name | Should -Be 'keep.txt'
        Get-ChildItem $Mount -Filter 'data.restore-*' | Should -BeNullOrEmpty
    }
}
