# The load test (tag Soak, run by build.ps1 Test -Soak): a data dir of one million small files,
# backed up and restored, with peak memory and time against tar | zstd.
BeforeAll { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'load' }
AfterAll { Remove-Item -Recurse -Force $Root -ErrorAction Ignore }

Describe 'One million files' -Tag Soak {
    It 'backs up and restores them within 1 GiB of memory' {
        $count = if ($env:EXOBACKUP_LOAD_FILES) { [int]$env:EXOBACKUP_LOAD_FILES } else { 1000000 }
        $b = New-Bundle 'exo' -FileCount $count -MinFileKB 1 -MaxFileKB 2 -LargeFileCount 0
        Remove-Item -Recurse -Force "$($b.DataDir)/jcr/swap", "$($b.DataDir)/jta"
        $w = [System.Diagnostics.Stopwatch]::StartNew()
        bash -c "tar -cf - -C '$($b.DataDir)' . | zstd -q -T0 -3 -o '$Root/baseline.tar.zst'"
        $tarSeconds = $w.Elapsed.TotalSeconds
        $measure = "`$w = [System.Diagnostics.Stopwatch]::StartNew(); {0}; `$hwm = (Get-Content /proc/self/status | Where-Object {{ `$_ -like 'VmHWM:*' }}) -replace '\D', ''; 'RESULT ' + `$w.Elapsed.TotalSeconds + ' ' + `$hwm"
        $backup = Invoke-FreshPwsh ("Import-Module '$env:EXOBACKUP_MODULE'; `$ProgressPreference = 'SilentlyContinue'; " + ($measure -f "`$s = New-ExoSnapshot '$Root/repo' '$($b.Home)'; `$null = `$s | Backup-ExoDataDir; `$null = `$s | Complete-ExoSnapshot"))
        $backup.ExitCode | Should -Be 0 -Because $backup.Output
        $bParts = (($backup.Output -split "`n") | Where-Object { $_ -like 'RESULT *' }).Trim().Split(' ')
        $restore = Invoke-FreshPwsh ("Import-Module '$env:EXOBACKUP_MODULE'; `$ProgressPreference = 'SilentlyContinue'; " + ($measure -f "`$null = Get-ExoSnapshot '$Root/repo' -Latest | Restore-ExoSnapshot -Component DataDir -DataDir '$Root/restored' -Confirm:`$false"))
        $restore.ExitCode | Should -Be 0 -Because $restore.Output
        $rParts = (($restore.Output -split "`n") | Where-Object { $_ -like 'RESULT *' }).Trim().Split(' ')
        $restoredFiles = (Get-ChildItem "$Root/restored" -Recurse -File).Count
        Write-Host ("Load: {0:N0} files; backup {1:0.0} s, peak {2:N0} MiB; restore {3:0.0} s, peak {4:N0} MiB; tar | zstd {5:0.0} s" -f $count, [double]$bParts[1], ([double]$bParts[2] / 1024), [double]$rParts[1], ([double]$rParts[2] / 1024), $tarSeconds)
        $restoredFiles | Should -BeGreaterOrEqual $count
        [double]$bParts[2] / 1024 | Should -BeLessThan 1024
        [double]$rParts[2] / 1024 | Should -BeLessThan 1024
    }
}
