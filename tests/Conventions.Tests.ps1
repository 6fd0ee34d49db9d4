# What a careful PowerShell user expects of the cmdlets' surface: quiet removals, one error per
# missing input, completion that resolves like the cmdlet, mistakes refused before anything happens.
BeforeAll {
    . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'conventions-tests'
    $B = New-Bundle 'exo' -FileCount 20 -LargeFileCount 0
    $Repo = "$Root/repo"
    $First = Invoke-Backup $B $Repo
    $Second = Invoke-Backup $B $Repo 'Incremental'
}
AfterAll { Clear-TestRoot $Root }

Describe 'Remove-ExoSnapshot' {
    It 'writes nothing without -PassThru, and the removed snapshot with it' {
        $r = "$Root/repo-remove"
        $a = Invoke-Backup $B $r
        $b = Invoke-Backup $B $r
        Remove-ExoSnapshot -Repository $r -Id $a.Id -Confirm:$false | Should -BeNullOrEmpty
        (Get-ExoSnapshot $r).Id | Should -Be @($b.Id)
        $removed = Remove-ExoSnapshot -Repository $r -Id $b.Id -Confirm:$false -PassThru
        $removed.Id | Should -Be $b.Id
        Get-ExoSnapshot $r | Should -BeNullOrEmpty
    }
}

Describe 'Get-ExoSnapshot -Id' {
    It 'writes a non-terminating ObjectNotFound error for an exact id that names nothing, and goes on with the others' {
        $found = Get-ExoSnapshot $Repo -Id '20200101T000000Z-full', $First.Id -ErrorVariable err -ErrorAction SilentlyContinue
        $found.Id | Should -Be @($First.Id)
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ExoBackup.SnapshotNotFound*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'Get-ExoSnapshot'
    }
    It 'stays silent for a wildcard that matches nothing' {
        Get-ExoSnapshot $Repo -Id '1999*' -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty
    }
}

Describe 'Tab completion of -Id' {
    It 'resolves a relative -Repository against the current location' {
        Push-Location $Root
        try {
            $line = 'Test-ExoSnapshot -Repository ./repo -Id '
            $ids = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        } finally { Pop-Location }
        $ids | Should -Contain $First.Id
        $ids | Should -Contain $Second.Id
    }
}

Describe 'Mistakes refused before anything happens' {
    It 'says that a repository given as a file is a file' {
        $file = "$Root/not-a-folder"
        Set-Content $file 'x'
        $e = { New-ExoSnapshot -Repository $file -Platform $B.Home } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.RepositoryNotFound*'
        $e.Exception.Message | Should -Match 'is a file'
        Get-Content $file | Should -Be 'x'
    }
    It 'refuses a repository inside the data dir or the configuration folder, leaving no lock and no snapshot' {
        foreach ($inside in "$($B.DataDir)/backups", "$($B.Home)/gatein/conf/backups") {
            $e = { New-ExoSnapshot -Repository $inside -Platform $B.Home } | Should -Throw -PassThru
            $e.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.RepositoryInsideBundle*'
            @(Get-ChildItem -Force $inside | Where-Object Name -ne 'exobackup-repository.json') | Should -BeNullOrEmpty
        }
    }
    It 'refuses Backup-ExoPlatform -NoRestart without -StopPlatform, even with -WhatIf' {
        $e = { Backup-ExoPlatform -Platform $B.Home -Repository "$Root/repo-norestart" -NoRestart -WhatIf } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.InvalidParameterCombination*'
        Test-Path "$Root/repo-norestart" | Should -BeFalse
    }
}

Describe 'Default views at 80 and 120 columns' {
    It 'show a snapshot''s id, age, state, size and parent within <_> columns, parts at 120' -ForEach 80, 120 {
        $width = $_
        $text = Get-ExoSnapshot $Repo | Out-String -Width $width
        $lines = @($text -split "`r?`n" | Where-Object { $_ })
        foreach ($l in $lines) { $l.Length | Should -BeLessOrEqual $width }
        $header = $lines[0]
        foreach ($column in 'Id', 'Age', 'State', 'Size', 'Down', 'Parent') { $header | Should -Match "\b$column\b" }
        $row = $lines | Where-Object { $_ -like "$($Second.Id)*" }
        $row | Should -Match 'Offline'
        $row | Should -Match '\d+(\.\d)? (B|KiB|MiB|GiB)'
        $row | Should -Match ([regex]::Escape($First.Id.Split('-')[0]))
        if ($width -ge 120) { $row | Should -Match 'data' }
    }
    It 'show a part by name with its sizes within 80 columns' {
        $text = $Second.Parts | Out-String -Width 80
        $text -split "`r?`n" | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
        $text | Should -Match 'DataDir'
        $text | Should -Match 'Source'
        $text | Should -Match 'Stored'
    }
    It 'show where a restore kept the replaced data, even at 80 columns' {
        $r = Restore-ExoSnapshot -Repository $Repo -Id $Second.Id -Component Configuration -Confirm:$false
        $text = $r | Out-String -Width 80
        $text -split "`r?`n" | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
        $text | Should -Match 'PreviousDataKeptAt'
        $text | Should -Match 'Restored\s+: [\d,]+ files?, [\d.]+ (B|KiB|MiB)'
        # Wrapped, never cut: every kept path is on screen whole.
        $flat = $text -replace '\s+', ''
        foreach ($kept in @($r).PreviousDataKeptAt) { $flat | Should -Match ([regex]::Escape($kept)) }
    }
}

Describe 'Backup-ExoPlatform reaches every option of the part cmdlets' {
    It 'takes each part cmdlet''s options, under the same name or the one named here' {
        # The part cmdlets' own inputs (the snapshot, the bundle) and what the one-call backup names for chat.
        $own = 'Snapshot', 'Repository', 'Id', 'Platform', 'WhatIf', 'Confirm'
        $renamed = @{ 'Backup-ExoChat' = @{ Credential = 'ChatCredential'; ConnectionString = 'ChatConnectionString'; Server = 'ChatConnectionString'; Database = 'ChatConnectionString' } }
        $platform = (Get-Command Backup-ExoPlatform).Parameters.Keys
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters
        foreach ($part in 'Backup-ExoDataDir', 'Backup-ExoConfiguration', 'Backup-ExoDatabase', 'Backup-ExoChat') {
            foreach ($p in (Get-Command $part).Parameters.Keys | Where-Object { $_ -notin $common -and $_ -notin $own }) {
                $name = if ($renamed[$part] -and $renamed[$part][$p]) { $renamed[$part][$p] } else { $p }
                $platform | Should -Contain $name -Because "$part -$p must be reachable from Backup-ExoPlatform"
            }
        }
    }
    It 'refuses a platform on SQL Server without -ServerBackupPath before anything stops, even with -WhatIf' {
        $sql = New-Bundle 'exo-mssql' -FileCount 5 -LargeFileCount 0 -Database SqlServer
        $e = { Backup-ExoPlatform -Platform $sql.Home -Repository "$Root/repo-mssql" -StopPlatform -WhatIf } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.ServerPathRequired*'
        $e.Exception.Message | Should -Match 'ServerBackupPath'
        { Backup-ExoPlatform -Platform $sql.Home -Repository "$Root/repo-mssql" -StopPlatform } | Should -Throw -ErrorId 'ExoBackup.ServerPathRequired,*'
        Test-Path "$Root/repo-mssql" | Should -BeFalse
    }
}

Describe 'Backup-ExoPlatform given several platforms' {
    BeforeAll {
        function New-Node([string] $Name, [string] $Shared) {
            $n = New-Bundle $Name -FileCount 5 -LargeFileCount 0 -Database PostgreSql -DatabaseHost db.example -DatabasePort 5432 -DatabaseName exo
            # The admin's own settings point both nodes at the shared folders (as an NFS mount would be).
            if ($Shared) { Add-Content "$($n.Home)/bin/setenv-customize.sh" "CATALINA_OPTS=`"`$CATALINA_OPTS -Dexo.jcr.storage.data.dir=$Shared/jcr/values -Dexo.files.storage.dir=$Shared/files`"" }
            $n
        }
    }
    It 'refuses platforms that are not nodes of one cluster before anything stops, even with -WhatIf' {
        $a = New-Bundle 'alone-a' -FileCount 5 -LargeFileCount 0
        $b = New-Bundle 'alone-b' -FileCount 5 -LargeFileCount 0
        $e = { Backup-ExoPlatform -Platform $a.Home, $b.Home -Repository "$Root/repo-two" -StopPlatform -WhatIf } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.NotOneCluster*'
        $e.Exception.Message | Should -Match 'HSQLDB'
        $n1 = New-Node 'node-own-1'; $n2 = New-Node 'node-own-2'
        $e = { Backup-ExoPlatform -Platform $n1.Home, $n2.Home -Repository "$Root/repo-two" -StopPlatform } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.NotOneCluster*'
        $e.Exception.Message | Should -Match 'JCR values'
        Test-Path "$Root/repo-two" | Should -BeFalse
    }
    It 'takes nodes with the same databases and shared folders as one cluster' {
        $shared = "$Root/shared-storage"
        $n1 = New-Node 'node-1' $shared; $n2 = New-Node 'node-2' $shared
        $out = (Invoke-FreshPwsh "Import-Module '$env:EXOBACKUP_MODULE'; Backup-ExoPlatform -Platform '$($n1.Home)', '$($n2.Home)' -Repository '$Root/repo-cluster' -StopPlatform -WhatIf").Output
        $out | Should -Match 'eXo stopped on 2 nodes'
        $out | Should -Not -Match 'NotOneCluster'
    }
}

Describe 'Restoring a snapshot of another bundle' {
    It 'says so in a warning' {
        $other = New-Bundle 'exo-other' -FileCount 5 -LargeFileCount 0
        $null = Restore-ExoSnapshot -Repository $Repo -Id $First.Id -Platform $other.Home -Component Configuration -Confirm:$false -WarningVariable w -WarningAction SilentlyContinue
        ($w -join ' ') | Should -Match "was taken of $([regex]::Escape($B.Home)); it is restored into $([regex]::Escape($other.Home))"
    }
}

Describe 'Ctrl+C' {
    It 'says what state it left: the snapshot abandoned and removed, or completed just before the stop' {
        $big = New-Bundle 'exo-ctrlc' -FileCount 3000 -LargeFileCount 3 -LargeFileMB 20
        $repo = "$Root/repo-ctrlc"
        $p = Invoke-FreshPwsh "Import-Module '$env:EXOBACKUP_MODULE'; Backup-ExoPlatform -Platform '$($big.Home)' -Repository '$repo' -Component DataDir, Configuration -CompressionLevel 19" -NoWait
        # Ctrl+C once the snapshot is open (its .partial folder exists), as an admin would press it mid-backup;
        # zstd -19 makes the backup last long enough here for the signal to come before its end.
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not (Get-ChildItem $repo -Filter '*.partial' -ErrorAction Ignore) -and -not $p.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        kill -INT $p.Id
        $p.WaitForExit(60000) | Should -BeTrue
        $out = $p.StandardOutput.ReadToEnd() + $p.StandardError.ReadToEnd()
        $out | Should -Match 'Stopped by Ctrl\+C: (snapshot \S+ was abandoned and removed; the repository holds what it held before|the work had completed just before the stop)'
        if ($out -match 'abandoned') { Get-ChildItem $repo -Directory | Should -BeNullOrEmpty }
    }
}

Describe 'Progress of Backup-ExoPlatform' {
    It 'moves its own bar with its parts, and shows no timeout as a time left' {
        $b = New-Bundle 'exo-progress' -FileCount 1500 -LargeFileCount 4 -LargeFileMB 32
        $ps = [powershell]::Create()
        # A slow compression level, so that the parts take a few seconds here too.
        $null = $ps.AddScript("Import-Module '$env:EXOBACKUP_MODULE'; Backup-ExoPlatform -Platform '$($b.Home)' -Repository '$Root/repo-progress' -Component DataDir, Configuration -CompressionLevel 15")
        $null = $ps.Invoke()
        $ps.HadErrors | Should -BeFalse
        $records = @($ps.Streams.Progress); $ps.Dispose()
        $parent = @($records | Where-Object { $_.ActivityId -eq 1 -and $_.RecordType -eq 'Processing' } | ForEach-Object PercentComplete)
        # Between 5 % (the parts start) and 90 % (all done) the runbook's bar takes more than the fixed steps.
        @($parent | Where-Object { $_ -gt 5 -and $_ -lt 90 } | Select-Object -Unique).Count | Should -BeGreaterThan 1
        $parent | Should -Be ($parent | Sort-Object) -Because 'the bar never goes back'
    }
}
