# Backup-ExoChat and chat restores against the MongoDB wire-protocol test server
# (tests/Support/MongoTestServer, with SCRAM-SHA-256), and stand-in mongodump/mongorestore.
BeforeAll {
    . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'chat-tests' -Databases
    $ChatPassword = 'chat:pa$$ "w0rd"'
    $Server = Start-MongoTestServer -User chat -Password $ChatPassword -Seed 5000
    $Port = $Server.Port
    $B = New-Bundle 'exo' -Chat -ChatHosts "127.0.0.1:$Port" -ChatDatabase chat -ChatUser chat -ChatPassword $ChatPassword -FileCount 5 -LargeFileCount 0
    $env:EXOBACKUP_STANDIN_LOG = "$Root/standin.log"
}
AfterAll {
    Stop-MongoTestServer $Server
    Remove-Item -Recurse -Force $Root -ErrorAction Ignore
}

Describe 'Chat round trip with the driver' {
    BeforeAll {
        $repo = "$Root/repo-chat"
        $S = New-ExoSnapshot $repo $B.Home
        $Part = $S | Backup-ExoChat
        $Done = $S | Complete-ExoSnapshot
    }
    It 'reads chat.properties, uses the driver where mongodump is missing, and records versions and counts' {
        $Part.Component | Should -Be 'Chat'
        $Part.Tool | Should -Be 'MongoDB.Driver'
        $Part.Details.serverVersion | Should -Be '6.0.99-exobackup-test'
        $Part.Details.hosts | Should -Be "127.0.0.1:$Port"
        $counts = $Part.Details.documentCounts | ConvertFrom-Json
        $counts.messages | Should -Be 5000
        $counts.notifications | Should -Be 0
        $Part.Files | Should -Contain 'chat/chat/messages.bson.gz'
        $Part.Files | Should -Contain 'chat/chat/messages.metadata.json.gz'
        (Get-Content "$($Done.Path)/manifest.json" -Raw) | Should -Not -Match ([regex]::Escape($ChatPassword))
    }
    It 'passes Test-ExoSnapshot -Level Archive and -Level Restore (a scratch database on the server)' {
        Test-ExoSnapshot -Repository $repo -Id $Done.Id -Level Archive | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
        $r = Test-ExoSnapshot -Repository $repo -Id $Done.Id -Level Restore
        $r | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
        ($r | Where-Object Part -eq 'Chat').Message | Should -Match 'restored into exobackup_test_'
    }
    It 'restores under another name, then over it keeping what it replaces as a dump in the repository' {
        $r = Restore-ExoSnapshot -Repository $repo -Id $Done.Id -Component Chat -Database chat_copy -ChatMethod Driver -Confirm:$false
        $r.Component | Should -Be 'Chat'
        $r.Target | Should -Match 'chat_copy'
        ($r.Items, $r.ItemKind, $r.Records) | Should -Be @(4, "collections", 5070)
        $r.PreviousDataKeptAt | Should -BeNullOrEmpty
        $again = Restore-ExoSnapshot -Repository $repo -Id $Done.Id -Component Chat -Database chat_copy -Confirm:$false
        $again.PreviousDataKeptAt | Should -BeLike "$repo/pre-restore-*/chat/chat_copy"
        "$($again.PreviousDataKeptAt)/messages.bson.gz" | Should -Exist
        Get-WiderThanPrivate $repo | Should -BeNullOrEmpty -Because 'the snapshot and the dump of the replaced database are private'
    }
    It 'refuses a wrong password without echoing it' {
        $bad = [pscredential]::new('chat', (ConvertTo-SecureString 'Wrong-Chat-99' -AsPlainText -Force))
        $s = New-ExoSnapshot $repo $B.Home
        $err = $null
        try { $s | Backup-ExoChat -ChatMethod Driver -Credential $bad } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.DatabaseAuthenticationFailed,*'
        "$err" | Should -Not -Match 'Wrong-Chat-99'
        $s | Remove-ExoSnapshot -Confirm:$false
    }
    It 'says when the chat server is unreachable' {
        $s = New-ExoSnapshot $repo $B.Home
        { $s | Backup-ExoChat -ChatMethod Driver -Server "127.0.0.1:$(Get-Random -Minimum 20000 -Maximum 30000)" } | Should -Throw -ErrorId 'ExoBackup.DatabaseUnreachable,*'
        $s | Remove-ExoSnapshot -Confirm:$false
    }
}

Describe 'Stand-in mongodump and mongorestore' {
    BeforeAll {
        $repo = "$Root/repo-standin"
        # The template a stand-in mongodump copies: a real dump in mongodump's layout, by the driver.
        $t = New-ExoSnapshot "$Root/repo-template" $B.Home
        $null = $t | Backup-ExoChat -ChatMethod Driver
        $env:EXOBACKUP_STANDIN_TEMPLATE = "$($t.Path)/chat"
    }
    AfterAll { $env:EXOBACKUP_STANDIN_MODE = '' }
    It 'is preferred by -ChatMethod Auto, gets the password only through a 0600 --config file, and its output is checked' {
        $env:EXOBACKUP_STANDIN_MODE = 'ok'
        $s = New-ExoSnapshot $repo $B.Home
        $p = $s | Backup-ExoChat -ToolPath $StandIns
        $p.Tool | Should -Be 'mongodump'
        $log = Get-Content $env:EXOBACKUP_STANDIN_LOG -Raw
        $log | Should -Match 'ARGS: --config=\S+ --db chat --out \S+/chat --gzip'
        $log | Should -Match 'PASSFILE-MODE: 600'
        $log | Should -Match 'CONFIG: 1 password line'
        $log | Should -Not -Match ([regex]::Escape($ChatPassword))
        $done = $s | Complete-ExoSnapshot
        Test-ExoSnapshot -Repository $repo -Id $done.Id -Level Archive | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
        Get-WiderThanPrivate $done.Path | Should -BeNullOrEmpty -Because "mongodump's files follow its umask until restricted"
    }
    It 'yields no part when mongodump <Mode>' -ForEach @(@{ Mode = 'fail'; Id = 'ExoBackup.ToolFailed' }, @{ Mode = 'empty'; Id = 'ExoBackup.DumpIncomplete' }) {
        $env:EXOBACKUP_STANDIN_MODE = $Mode
        $s = New-ExoSnapshot $repo $B.Home
        try {
            { $s | Backup-ExoChat -ToolPath $StandIns } | Should -Throw -ErrorId "$Id,*"
            (Get-ExoSnapshot $repo -Id $s.Id -IncludeIncomplete).Parts | Should -BeNullOrEmpty
        } finally { $s | Remove-ExoSnapshot -Confirm:$false }
    }
    It 'restores with mongorestore into staging collections, the password only in its --config file, and catches one that restored nothing' {
        $env:EXOBACKUP_STANDIN_MODE = 'ok'
        Remove-Item $env:EXOBACKUP_STANDIN_LOG -ErrorAction Ignore
        $snap = Get-ExoSnapshot $repo -Latest
        # The stand-in exits 0 but restores nothing: the check of the staged collections stops the restore, chat as it was.
        { Restore-ExoSnapshot -Repository $repo -Id $snap.Id -Component Chat -Database chat_by_tool -ToolPath $StandIns -DiscardReplaced -Confirm:$false } |
            Should -Throw -ErrorId 'ExoBackup.ChatRestoreIncomplete,*'
        $log = Get-Content $env:EXOBACKUP_STANDIN_LOG -Raw
        $log | Should -Match 'TOOL: mongorestore'
        $log | Should -Match 'ARGS: --config=\S+ --gzip --nsInclude chat\.\* --nsFrom chat\.\$coll\$ --nsTo chat_by_tool\.exobackup_staged_\S+\.\$coll\$'
        $log | Should -Not -Match ([regex]::Escape($ChatPassword))
    }
}

Describe 'A chat restore killed at any point' -Tag Reliability {
    # Staged: every collection restored beside the live ones, then renamed into place. Before, the database
    # was dropped and filled again, so a kill left collections half restored.
    BeforeAll {
        $repo = "$Root/repo-kill"
        $S = New-ExoSnapshot $repo $B.Home
        $null = $S | Backup-ExoChat -ChatMethod Driver
        $Snap = $S | Complete-ExoSnapshot
        $Restore = "Import-Module '$env:EXOBACKUP_MODULE'; Restore-ExoSnapshot -Repository '$repo' -Id '$($Snap.Id)' -Component Chat -Database chat_live -ChatMethod Driver -DiscardReplaced -Confirm:`$false"
        function Get-ChatCounts {
            # What the database holds now, read by a backup of it.
            $p = New-ExoSnapshot "$Root/repo-probe" $B.Home | Backup-ExoChat -ChatMethod Driver -Database chat_live
            Get-ExoSnapshot "$Root/repo-probe" -IncludeIncomplete | Remove-ExoSnapshot -Confirm:$false | Out-Null
            $p.Details.documentCounts | ConvertFrom-Json -AsHashtable
        }
        $New = $Snap.Parts | Where-Object Component -eq 'Chat' | ForEach-Object { $_.Details.documentCounts | ConvertFrom-Json -AsHashtable }
        $r = Invoke-FreshPwsh $Restore
        $r.ExitCode | Should -Be 0 -Because $r.Output
    }
    It 'leaves each collection whole, old or restored, and the next restore drops what a kill staged' {
        $rng = [System.Random]::new(7)
        $kills = 12; $midRestore = 0
        for ($i = 0; $i -lt $kills; $i++) {
            # A collection half restored holds fewer documents than both states it may be in.
            $live = Get-ChatCounts
            $p = Invoke-FreshPwsh -NoWait "$Restore -Verbose"
            # Killed within 30 ms of its saying it fills the staging collections: inside the restore, at a point that varies.
            while ($null -ne ($line = $p.StandardOutput.ReadLine()) -and $line -notmatch 'into staging collections') { }
            Start-Sleep -Milliseconds $rng.Next(0, 30)
            if (-not $p.HasExited) { $p.Kill($true) }
            $p.WaitForExit()
            $now = Get-ChatCounts
            foreach ($c in $New.Keys) { $now[$c] | Should -BeIn @($live[$c], $New[$c]) -Because "collection $c is whole: as it was ($($live[$c])) or as restored ($($New[$c]))" }
            if ($now.Keys | Where-Object { $_ -like 'exobackup_staged_*' }) { $midRestore++ } # the kill landed before the renames
        }
        $midRestore | Should -BeGreaterThan 0 -Because 'some kills must land inside the restore for this to prove anything' 
        $r = Invoke-FreshPwsh $Restore
        $r.ExitCode | Should -Be 0 -Because $r.Output
        (Get-ChatCounts).Keys | Where-Object { $_ -like 'exobackup_staged_*' } | Should -BeNullOrEmpty
        Write-Host "Chat restore kills: $kills within 30 ms of the staging's start, $midRestore of them while collections were being staged (the others after the renames); every collection whole each time; the next restore dropped the staging collections."
    }
}

Describe 'Chat against a real MongoDB' {
    It 'runs when EXOBACKUP_TEST_MONGODB_URI is set' {
        if (-not $env:EXOBACKUP_TEST_MONGODB_URI) { Set-ItResult -Skipped -Because 'EXOBACKUP_TEST_MONGODB_URI is not set: no MongoDB server can be installed on this machine (the test server in tests/Support stands in)'; return }
        $uri = [uri]$env:EXOBACKUP_TEST_MONGODB_URI
        $s = New-ExoSnapshot "$Root/repo-real" $B.Home
        $p = $s | Backup-ExoChat -ChatMethod Driver -Server "$($uri.Host):$($uri.Port)" -Database $uri.AbsolutePath.Trim('/')
        $p.Details.serverVersion | Should -Not -BeNullOrEmpty
        $done = $s | Complete-ExoSnapshot
        Test-ExoSnapshot -Repository "$Root/repo-real" -Id $done.Id -Level Archive | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
    }
}
