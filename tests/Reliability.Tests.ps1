# The reliability and security suite (tag Reliability): kills at many points, every file of a
# snapshot damaged in turn, hostile indexes, concurrent writers. Figures are printed for the README.
BeforeAll {
    . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'reliability'
    $B = New-Bundle 'exo' -FileCount 3000 -LargeFileCount 4 -LargeFileMB 24
}
AfterAll { Remove-Item -Recurse -Force $Root -ErrorAction Ignore }

Describe 'Corruption of every file of a snapshot' -Tag Reliability {
    BeforeAll {
        $Repo = "$Root/repo-corrupt"
        $Full = Invoke-Backup $B $Repo Full
        Set-Content "$($B.DataDir)/files/changed.txt" 'changed'
        $Snap = Invoke-Backup $B $Repo Incremental
        $Target = "$Root/restore-target"
        New-Item -ItemType Directory $Target | Out-Null
        Set-Content "$Target/keep.txt" 'the data in place'
    }
    It 'finds every flipped byte, truncation and deletion, naming the file, and refuses to restore' {
        $tried = 0; $detected = 0; $refused = 0
        $files = Get-ChildItem $Full.Path, $Snap.Path -File
        foreach ($f in $files) {
            $original = [System.IO.File]::ReadAllBytes($f.FullName)
            foreach ($damage in 'flip', 'truncate', 'delete') {
                $tried++
                switch ($damage) {
                    'flip' { $b = $original.Clone(); $b[[int]($b.Length / 2)] = $b[[int]($b.Length / 2)] -bxor 0x41; [System.IO.File]::WriteAllBytes($f.FullName, $b) }
                    'truncate' { [System.IO.File]::WriteAllBytes($f.FullName, $original[0..([Math]::Max(0, [int]($original.Length / 2) - 1))]) }
                    'delete' { Remove-Item $f.FullName }
                }
                try {
                    $r = Test-ExoSnapshot -Repository $Repo -Id $Snap.Id -Level Archive -ErrorAction SilentlyContinue
                    $bad = @($r | Where-Object { -not $_.Passed })
                    if ($bad -and (($bad.File + $bad.Message) -join ' ') -match [regex]::Escape($f.Name) -or ($f.Name -eq 'manifest.json' -and $bad)) { $detected++ }
                    else { Write-Warning "not detected: $damage of $($f.Directory.Name)/$($f.Name)" }
                    $err = $null
                    try { Restore-ExoSnapshot -Repository $Repo -Id $Snap.Id -Component DataDir -DataDir $Target -Confirm:$false } catch { $err = $_ }
                    if ($err -and (Get-Content "$Target/keep.txt") -eq 'the data in place' -and -not (Get-ChildItem $Root | Where-Object Name -like 'restore-target.?*')) { $refused++ }
                    else { Write-Warning "restore not refused cleanly after $damage of $($f.Name): $err" }
                }
                finally { [System.IO.File]::WriteAllBytes($f.FullName, $original) }
            }
        }
        Write-Host "Corruption: $detected of $tried damages detected by Test-ExoSnapshot; $refused of $tried restores refused with the target untouched."
        $detected | Should -Be $tried
        $refused | Should -Be $tried
    }
    It 'reports a missing parent for every snapshot that depends on it' {
        $i2 = Invoke-Backup $B $Repo Incremental
        Rename-Item $Full.Path "$($Full.Path).away"
        try {
            foreach ($id in $Snap.Id, $i2.Id) {
                (Test-ExoSnapshot -Repository $Repo -Id $id -ErrorAction SilentlyContinue | Where-Object Part -eq 'Chain').Message | Should -Match $Full.Id
            }
        } finally { Rename-Item "$($Full.Path).away" $Full.Path }
    }
}

Describe 'Kills at many points' -Tag Reliability {
    BeforeAll {
        $Repo = "$Root/repo-kill"
        $Good = Invoke-Backup $B $Repo Full
        $Points = if ($env:EXOBACKUP_SOAK) { 60 } else { 30 }
        # How long an uninterrupted backup takes in a fresh pwsh: the kills are spread over that time.
        $w = [System.Diagnostics.Stopwatch]::StartNew()
        $r = Invoke-FreshPwsh "Import-Module '$env:EXOBACKUP_MODULE'; `$s = New-ExoSnapshot '$Root/repo-timing' '$($B.Home)'; `$null = `$s | Backup-ExoDataDir; `$null = `$s | Complete-ExoSnapshot"
        $Duration = $w.Elapsed.TotalMilliseconds
    }
    It 'leaves no new complete snapshot, a usable repository and a breakable lock after each kill during a backup' {
        $rng = [System.Random]::new(11)
        $kills = 0
        for ($i = 0; $i -lt $Points; $i++) {
            $delay = [int]($rng.NextDouble() * $Duration)
            $p = Invoke-FreshPwsh -NoWait "Import-Module '$env:EXOBACKUP_MODULE'; `$s = New-ExoSnapshot '$Repo' '$($B.Home)' -Type Full -BreakLock -WarningAction SilentlyContinue; `$null = `$s | Backup-ExoDataDir; `$null = `$s | Complete-ExoSnapshot"
            Start-Sleep -Milliseconds $delay
            if (-not $p.HasExited) { $p.Kill($true); $kills++ }
            $p.WaitForExit()
            $complete = @(Get-ExoSnapshot $Repo)
            # A kill after Complete-ExoSnapshot is allowed to leave a complete, valid snapshot.
            foreach ($s in $complete | Where-Object Id -ne $Good.Id) {
                Test-ExoSnapshot -Repository $Repo -Id $s.Id | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
                Remove-ExoSnapshot -Repository $Repo -Id $s.Id -Confirm:$false | Out-Null
            }
            Test-ExoSnapshot -Repository $Repo -Id $Good.Id | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
        }
        # The next backup succeeds, breaking the stale lock of the last kill if there is one.
        $next = New-ExoSnapshot $Repo $B.Home -Type Incremental -BreakLock -WarningAction SilentlyContinue
        $null = $next | Backup-ExoDataDir
        ($next | Complete-ExoSnapshot).Status | Should -Be 'Complete'
        Remove-ExoSnapshot -Repository $Repo -IncompleteOlderThan 0 -Confirm:$false | Out-Null
        Get-ChildItem $Repo -Filter '*.partial' | Should -BeNullOrEmpty
        Write-Host "Backup kills: $kills processes killed at $Points points over $([int]$Duration) ms; every earlier snapshot still passed its test."
    }
    It 'leaves the target either as it was or fully restored after each kill during a restore' {
        $rng = [System.Random]::new(12)
        $target = "$Root/kill-target"
        $restoredState = $null
        $w = [System.Diagnostics.Stopwatch]::StartNew()
        $null = Invoke-FreshPwsh "Import-Module '$env:EXOBACKUP_MODULE'; Restore-ExoSnapshot -Repository '$Repo' -Id '$($Good.Id)' -Component DataDir -DataDir '$target' -Confirm:`$false"
        $restoreMs = $w.Elapsed.TotalMilliseconds
        $restoredState = Get-TreeState $target
        $outcomes = @{ old = 0; new = 0 }
        for ($i = 0; $i -lt [Math]::Max(20, $Points / 2); $i++) {
            Remove-Item -Recurse -Force "$Root/kill-target*" -ErrorAction Ignore
            New-Item -ItemType Directory $target | Out-Null
            Set-Content "$target/old.txt" 'old data'
            $oldState = Get-TreeState $target
            $p = Invoke-FreshPwsh -NoWait "Import-Module '$env:EXOBACKUP_MODULE'; Restore-ExoSnapshot -Repository '$Repo' -Id '$($Good.Id)' -Component DataDir -DataDir '$target' -Confirm:`$false"
            Start-Sleep -Milliseconds ([int]($rng.NextDouble() * $restoreMs))
            if (-not $p.HasExited) { $p.Kill($true) }
            $p.WaitForExit()
            if (Test-Path $target) {
                $now = Get-TreeState $target
                if (-not (Compare-TreeState $oldState $now)) { $outcomes.old++ }
                elseif (-not (Compare-TreeState $restoredState $now)) {
                    $outcomes.new++
                    Get-ChildItem $Root -Filter 'kill-target.pre-restore-*' | Should -Not -BeNullOrEmpty -Because 'the replaced data is kept'
                }
                else { throw "After kill $i the target is neither the old data nor the restored data" }
            }
            else {
                # Killed between the two renames: the old data waits, whole, as .pre-restore.
                $kept = Get-ChildItem $Root -Filter 'kill-target.pre-restore-*' | Select-Object -First 1
                Compare-TreeState $oldState (Get-TreeState $kept.FullName) | Should -BeNullOrEmpty
                $outcomes.old++
            }
        }
        Write-Host "Restore kills: the target was the old data $($outcomes.old) times and the restored data $($outcomes.new) times; never half."
    }
}

Describe 'Hostile snapshots' -Tag Reliability {
    BeforeAll {
        $Repo = "$Root/repo-hostile"
        $Snap = Invoke-Backup $B $Repo Full
        # Rewrites the data-dir index with extra lines, then the manifest and SHA256SUMS, as an attacker would.
        function Set-HostileIndex([string[]] $Lines) {
            $indexFile = "$($Snap.Path)/datadir.index.jsonl.zst"
            $text = (zstd -dc $indexFile | Out-String).TrimEnd() + "`n" + ($Lines -join "`n") + "`n"
            $tmp = "$Root/index.txt"; [System.IO.File]::WriteAllText($tmp, $text)
            zstd -q -f $tmp -o $indexFile
            $hash = (Get-FileHash $indexFile -Algorithm SHA256).Hash.ToLower()
            $m = Get-Content "$($Snap.Path)/manifest.json" -Raw | ConvertFrom-Json
            foreach ($f in ($m.parts | Where-Object component -eq 'DataDir').files) { if ($f.path -eq 'datadir.index.jsonl.zst') { $f.sha256 = $hash; $f.size = (Get-Item $indexFile).Length } }
            $m | ConvertTo-Json -Depth 10 | Set-Content "$($Snap.Path)/manifest.json"
            Push-Location $Snap.Path
            try { (Get-ChildItem -File -Recurse | Where-Object Name -ne 'SHA256SUMS' | ForEach-Object { "$((Get-FileHash $_.FullName -Algorithm SHA256).Hash.ToLower())  $([System.IO.Path]::GetRelativePath($Snap.Path, $_.FullName))" }) -join "`n" | Set-Content SHA256SUMS -NoNewline; Add-Content SHA256SUMS '' }
            finally { Pop-Location }
        }
    }
    It 'refuses <Name> and writes nothing outside the target' -ForEach @(
        @{ Name = 'an absolute path'; Line = '{"p":"/etc/exobackup-pwned","t":"f","m":420,"s":0,"n":0,"h":"99aa06d3014798d86001c324468d497f","a":"x"}' }
        @{ Name = 'a path with ..'; Line = '{"p":"../exobackup-pwned","t":"f","m":420,"s":0,"n":0,"h":"99aa06d3014798d86001c324468d497f","a":"x"}' }
        @{ Name = 'a link out of the target'; Line = '{"p":"files/escape","t":"l","m":511,"n":0,"l":"../../../../etc"}' }
        @{ Name = 'an absolute link'; Line = '{"p":"files/abs","t":"l","m":511,"n":0,"l":"/etc"}' }
        # The index reader knows only files, folders and links (TreeRestore.Validate refuses the rest again).
        @{ Name = 'a block device'; Line = '{"p":"files/sda","t":"b","m":432,"n":0}'; Id = 'ExoBackup.IndexCorrupt' }
        @{ Name = 'a character device'; Line = '{"p":"files/mem","t":"c","m":432,"n":0}'; Id = 'ExoBackup.IndexCorrupt' }
        @{ Name = 'a file through a link'; Line = "{`"p`":`"files/inner`",`"t`":`"l`",`"m`":511,`"n`":0,`"l`":`"../hsql`"}`n{`"p`":`"files/inner/x`",`"t`":`"f`",`"m`":420,`"s`":0,`"n`":0,`"h`":`"99aa06d3014798d86001c324468d497f`",`"a`":`"x`"}" }
    ) {
        Copy-Item "$($Snap.Path)/datadir.index.jsonl.zst" "$Root/index.bak" -Force
        Copy-Item "$($Snap.Path)/manifest.json" "$Root/manifest.bak" -Force
        Copy-Item "$($Snap.Path)/SHA256SUMS" "$Root/sums.bak" -Force
        try {
            Set-HostileIndex ($Line -split "`n")
            Test-ExoSnapshot -Repository $Repo -Id $Snap.Id | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty -Because 'the checksums were forged to match'
            $err = $null
            try { Restore-ExoSnapshot -Repository $Repo -Id $Snap.Id -Component DataDir -DataDir "$Root/hostile-target/data" -Confirm:$false } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike "$(if ($Id) { $Id } else { 'ExoBackup.UnsafeArchiveEntry' }),*"
            '/etc/exobackup-pwned' | Should -Not -Exist
            "$Root/exobackup-pwned" | Should -Not -Exist
            "$Root/hostile-target" | Should -Not -Exist -Because 'nothing was written'
        }
        finally {
            Copy-Item "$Root/index.bak" "$($Snap.Path)/datadir.index.jsonl.zst" -Force
            Copy-Item "$Root/manifest.bak" "$($Snap.Path)/manifest.json" -Force
            Copy-Item "$Root/sums.bak" "$($Snap.Path)/SHA256SUMS" -Force
        }
    }
}

Describe 'Names that differ only by case' -Tag Reliability {
    It 'restores them as two files on this case-sensitive file system (a case-insensitive target refuses them: xUnit CaseClashTests)' {
        $C = New-Bundle 'case-exo' -FileCount 5 -LargeFileCount 0
        Set-Content "$($C.DataDir)/files/Report.txt" 'upper'
        Set-Content "$($C.DataDir)/files/report.txt" 'lower'
        $snap = Invoke-Backup $C "$Root/repo-case" Full
        Restore-ExoSnapshot -Snapshot $snap -Component DataDir -DataDir "$Root/case-target" -Confirm:$false | Out-Null
        Get-Content "$Root/case-target/files/Report.txt" | Should -Be 'upper'
        Get-Content "$Root/case-target/files/report.txt" | Should -Be 'lower'
    }
}

Describe 'Concurrent writers' -Tag Reliability {
    It 'lets one of two simultaneous New-ExoSnapshot win; the other fails clearly; nothing is corrupted' {
        $repo = "$Root/repo-concurrent"
        $null = Invoke-Backup $B $repo Full
        $script = "Import-Module '$env:EXOBACKUP_MODULE'; try { `$s = New-ExoSnapshot '$repo' '$($B.Home)' -Type Incremental; Start-Sleep 2; `$null = `$s | Backup-ExoConfiguration; `$null = `$s | Complete-ExoSnapshot; 'WON' } catch { 'LOST ' + `$_.FullyQualifiedErrorId }"
        $a = Invoke-FreshPwsh -NoWait $script
        $b = Invoke-FreshPwsh -NoWait $script
        $outA = $a.StandardOutput.ReadToEnd(); $outB = $b.StandardOutput.ReadToEnd()
        $a.WaitForExit(); $b.WaitForExit()
        $results = @($outA.Trim(), $outB.Trim()) | ForEach-Object { ($_ -split "`n")[-1] }
        ($results | Where-Object { $_ -eq 'WON' }).Count | Should -Be 1
        ($results | Where-Object { $_ -like 'LOST ExoBackup.RepositoryLocked*' }).Count | Should -Be 1
        (Get-ExoSnapshot $repo).Count | Should -Be 2
        Get-ExoSnapshot $repo | ForEach-Object { Test-ExoSnapshot -Repository $repo -Id $_.Id | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty }
    }
}

Describe 'Unreadable files and folders' -Tag Reliability {
    BeforeAll {
        # Root reads everything, so as root the backups run under setpriv without the two capabilities
        # that let root ignore permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH).
        $IsRoot = $IsLinux -and (id -u) -eq '0'
        $NoDrop = $IsRoot -and -not (Get-Command setpriv -ErrorAction Ignore)
        $AsUser = if ($IsRoot) { @('setpriv', '--bounding-set=-dac_override,-dac_read_search') } else { @() }
        $U = New-Bundle 'unreadable-exo' -FileCount 40 -LargeFileCount 0
        $Repo = "$Root/repo-unreadable"
        $Full = Invoke-Backup $U $Repo Full
        New-Item -ItemType Directory "$($U.DataDir)/files/locked" | Out-Null
        Set-Content "$($U.DataDir)/files/locked/inside.txt" 'in a locked folder'
        Set-Content "$($U.DataDir)/files/secret.bin" 'no one may read this'
        chmod 000 "$($U.DataDir)/files/secret.bin" "$($U.DataDir)/files/locked"
        function Invoke-AsUser([string] $Body) {
            Invoke-FreshPwsh -Prefix $AsUser "Import-Module '$env:EXOBACKUP_MODULE'; `$ErrorActionPreference = 'Stop'; try { $Body } catch { 'ERROR ' + `$_.FullyQualifiedErrorId + ' :: ' + `$_.Exception.Message }"
        }
    }
    AfterAll { if (Test-Path "$($U.DataDir)/files/locked") { chmod 755 "$($U.DataDir)/files/locked" } }
    BeforeEach { if ($NoDrop) { Set-ItResult -Skipped -Because 'the tests run as root and setpriv (util-linux) is missing: root would read the unreadable files' } }

    It 'fails a full backup before writing anything, naming the file and the folder' {
        $r = Invoke-AsUser "`$s = New-ExoSnapshot '$Repo' '$($U.Home)'; `$null = `$s | Backup-ExoDataDir"
        $r.Output | Should -Match 'ERROR ExoBackup.SourceUnreadable'
        $r.Output | Should -Match ([regex]::Escape('files/secret.bin'))
        $r.Output | Should -Match ([regex]::Escape('files/locked'))
        $open = Get-ExoSnapshot $Repo -IncludeIncomplete | Where-Object Status -ne 'Complete'
        $open | Should -Not -BeNullOrEmpty
        $open.Parts | Should -BeNullOrEmpty -Because 'a failed part records nothing'
        Get-ChildItem $open.Path -Filter 'datadir*' | Should -BeNullOrEmpty -Because 'nothing of the part is left'
        $open | Remove-ExoSnapshot -Confirm:$false
    }
    It 'fails an incremental backup (which does not walk the tree first) naming what it cannot read' {
        $r = Invoke-AsUser "`$s = New-ExoSnapshot '$Repo' '$($U.Home)' -Type Incremental; `$null = `$s | Backup-ExoDataDir"
        $r.Output | Should -Match 'ERROR ExoBackup.SourceUnreadable'
        $r.Output | Should -Match 'files/(secret\.bin|locked)'
        Get-ExoSnapshot $Repo -IncludeIncomplete | Where-Object Status -ne 'Complete' | Remove-ExoSnapshot -Confirm:$false
    }
    It 'with -SkipUnreadable records them in the part, marks the snapshot, and restores the rest' {
        $r = Invoke-AsUser "`$s = New-ExoSnapshot '$Repo' '$($U.Home)'; `$p = `$s | Backup-ExoDataDir -SkipUnreadable -WarningVariable w -WarningAction SilentlyContinue; `$c = `$s | Complete-ExoSnapshot -WarningVariable w2 -WarningAction SilentlyContinue; 'SKIPPED ' + (`$p.Skipped -join ' | '); 'MARKED ' + `$c.SkippedItems; 'WARNED ' + ((@(`$w) + @(`$w2)) -join ' | ')"
        $r.Output | Should -Not -Match 'ERROR'
        $r.Output | Should -Match 'SKIPPED .*files/secret\.bin: unreadable'
        $r.Output | Should -Match 'SKIPPED .*files/locked: unreadable'
        $r.Output | Should -Match 'MARKED 2'
        $r.Output | Should -Match 'WARNED .*2 item\(s\) are not in the snapshot.*lacks 2 item'
        $snap = Get-ExoSnapshot $Repo -Latest
        $snap.SkippedItems | Should -Be 2
        $target = "$Root/unreadable-restore"
        Restore-ExoSnapshot -Snapshot $snap -Component DataDir -DataDir $target -Confirm:$false -WarningVariable rw -WarningAction SilentlyContinue | Out-Null
        ($rw -join ' ') | Should -Match 'lacks 2 item'
        "$target/files/secret.bin" | Should -Not -Exist
        "$target/files/locked/inside.txt" | Should -Not -Exist -Because 'the folder could not be listed; it comes back empty, as locked as it was'
        $expected = Get-TreeState $U.DataDir -Exclude ($NoBackup + 'files/secret.bin', 'files/locked/inside.txt')
        Compare-TreeState $expected (Get-TreeState $target -Exclude $NoBackup) | Should -BeNullOrEmpty
    }
}
