# Backup-ExoDatabase and database restores against real PostgreSQL 15 and MariaDB servers
# started by the tests, with stand-in tools that record what they were given.
BeforeDiscovery { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Discovery }
BeforeAll {
    . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'db-tests' -Databases
    function Read-StandInLog([string] $Log) { if (Test-Path $Log) { Get-Content $Log -Raw } else { '' } }
}
AfterAll { Remove-Item -Recurse -Force $Root -ErrorAction Ignore }

Describe 'PostgreSQL' -Skip:$NoPostgres {
    BeforeAll {
        $Pg = Start-TestPostgres -Root "$Root/pg" -Password 'pg:pa$$ word\with"quotes'
        # An eXo-like database: several schemas and tables, BLOBs, Unicode, 200,000 rows in one table.
        foreach ($db in 'exo', 'exo_idm', 'exo_jcr', 'exo_jpa') { Invoke-TestPostgresSql $Pg "CREATE DATABASE $db OWNER exo" | Out-Null }
        $schema = @'
SET ROLE exo;
CREATE SCHEMA jpa;
CREATE TABLE jcr_item (id bigint PRIMARY KEY, name text NOT NULL, data bytea);
CREATE TABLE idm_user (id serial PRIMARY KEY, login text UNIQUE, display_name text);
CREATE TABLE soc_activities (id bigint PRIMARY KEY, title text, posted timestamptz);
CREATE TABLE jpa.wiki_page (id bigint PRIMARY KEY, content text);
INSERT INTO jcr_item SELECT g, 'node-' || g, decode(md5(g::text), 'hex') || decode(repeat('ff', 512), 'hex') FROM generate_series(1, 2000) g;
INSERT INTO idm_user (login, display_name) VALUES ('root', 'Root Root'), ('mary', 'Mary Käßler — 文字'), ('jöhn', 'Jöhn O''Connor');
INSERT INTO soc_activities SELECT g, 'activity ' || g || ' ✓', now() - g * interval '1 minute' FROM generate_series(1, 200000) g;
INSERT INTO jpa.wiki_page SELECT g, repeat('wiki ', 50) FROM generate_series(1, 500) g;
'@
        Invoke-TestPostgresSql $Pg $schema -Database exo | Out-Null
        $B = New-Bundle 'pg-exo' -Database PostgreSql -DatabaseHost 127.0.0.1 -DatabasePort $Pg.Port `
            -DatabaseName exo -DatabaseUser exo -DatabasePassword $Pg.Password -FileCount 10 -LargeFileCount 0
        $Repo = "$Root/repo-pg"
        function Get-Checksum([string] $Database = 'exo') {
            Invoke-TestPostgresSql $Pg "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM soc_activities t UNION ALL SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM jcr_item t UNION ALL SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM idm_user t" -Database $Database
        }
        $Before = Get-Checksum
        $env:EXOBACKUP_STANDIN_LOG = "$Root/pg-standin.log"
        $env:EXOBACKUP_STANDIN_MODE = ''
        $S = New-ExoSnapshot $Repo $B.Home
        $Parts = @($S | Backup-ExoDatabase -ToolPath $StandIns)
        $null = $S | Backup-ExoConfiguration
        $Done = $S | Complete-ExoSnapshot
    }
    AfterAll { Stop-TestPostgres $Pg; $env:EXOBACKUP_STANDIN_MODE = '' }

    It 'dumps the shared database once for the three datasources, with versions, WAL position and row counts' {
        $Parts | Should -HaveCount 1
        $p = $Parts[0]
        $p.Component | Should -Be 'Database'
        $p.Tool | Should -Be 'pg_dump'
        $p.Files | Should -Be @('db/exo.dump')
        $p.Details.datasources | Should -Be 'idm,jcr,jpa'
        $p.Details.serverVersion | Should -Match '^15\.'
        $p.Details.walLsn | Should -Match '^[0-9A-F]+/[0-9A-F]+$'
        $counts = $p.Details.rowCounts | ConvertFrom-Json
        $counts.'public.soc_activities' | Should -Be 200000
        $counts.'jpa.wiki_page' | Should -Be 500
        $Done.Consistency | Should -Be 'Offline'
    }
    It 'starts the tools with an allow-listed environment: the caller''s other secrets never reach them (finding 2.12)' {
        $log = "$Root/pg-env.log"
        $saved = $env:EXOBACKUP_STANDIN_LOG
        $env:EXO_DB_PASSWORD = 'leak-one'; $env:EXO_MONGO_PASSWORD = 'leak-two'; $env:SOME_TOKEN = 'leak-three'
        try {
            $env:EXOBACKUP_STANDIN_LOG = $log
            $s = New-ExoSnapshot "$Root/repo-env" $B.Home
            $null = $s | Backup-ExoDatabase -ToolPath $StandIns
            $null = $s | Complete-ExoSnapshot -AllowOnline
        }
        finally { $env:EXOBACKUP_STANDIN_LOG = $saved; Remove-Item Env:EXO_DB_PASSWORD, Env:EXO_MONGO_PASSWORD, Env:SOME_TOKEN -ErrorAction Ignore }
        $text = Read-StandInLog $log
        $text | Should -Not -Match 'leak-'
        # What the stand-in's own bash adds (PWD, SHLVL, _) aside, every variable is on the list or set by the engine adapter.
        $names = @($text -split "`n" | Where-Object { $_ -like 'ENV: *' } | ForEach-Object { ($_ -replace '^ENV: ', '') -split '=', 2 | Select-Object -First 1 } | Sort-Object -Unique)
        $allowed = 'PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM', 'PGPASSFILE', 'PGAPPNAME', 'PGCONNECT_TIMEOUT', 'PWD', 'OLDPWD', 'SHLVL', '_'
        $names | Where-Object { $_ -notin $allowed -and $_ -notlike 'LC_*' -and $_ -notlike 'EXOBACKUP_*' -and $_ -notlike 'PGSSL*' } | Should -BeNullOrEmpty
    }
    It 'never puts the password on a command line or in the environment, and removes the 0600 password file' {
        $log = Read-StandInLog $env:EXOBACKUP_STANDIN_LOG
        $log | Should -Match 'ARGS: .*--format=custom'
        $log | Should -Not -Match ([regex]::Escape($Pg.Password))
        $log | Should -Not -Match 'ENV: PGPASSWORD='
        $log | Should -Match 'PASSFILE-MODE: 600'
        $passfile = ($log -split "`n" | Where-Object { $_ -like 'ENV: PGPASSFILE=*' } | Select-Object -First 1) -replace '^ENV: PGPASSFILE=', ''
        $passfile | Should -Not -BeNullOrEmpty
        $passfile.Trim() | Should -Not -Exist
        (Get-Content "$($Done.Path)/manifest.json" -Raw) | Should -Not -Match ([regex]::Escape($Pg.Password))
    }
    It 'keeps the snapshot private: no folder above 0700, no file above 0600, whatever the umask pg_dump ran with' {
        Get-WiderThanPrivate $Done.Path | Should -BeNullOrEmpty
    }
    It 'passes Test-ExoSnapshot -Level Archive (pg_restore --list) and -Level Restore (a scratch database, dropped after)' {
        Test-ExoSnapshot -Repository $Repo -Id $Done.Id -Level Archive | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
        $r = Test-ExoSnapshot -Repository $Repo -Id $Done.Id -Level Restore
        $r | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
        ($r | Where-Object Part -like 'Database*').Message | Should -Match 'restored into exobackup_test_'
        Invoke-TestPostgresSql $Pg "SELECT count(*) FROM pg_database WHERE datname LIKE 'exobackup_test_%'" | Should -Be '0'
    }
    It 'restores the database, keeping the one it replaces under another name' {
        Invoke-TestPostgresSql $Pg "DELETE FROM soc_activities WHERE id % 2 = 0; DROP TABLE jpa.wiki_page;" -Database exo | Out-Null
        $r = Restore-ExoSnapshot -Repository $Repo -Id $Done.Id -Component Database -Confirm:$false
        $r.Component | Should -Be 'Database'
        $r.PreviousDataKeptAt | Should -Match '^exo_pre_restore_'
        Get-Checksum | Should -Be $Before
        Invoke-TestPostgresSql $Pg "SELECT count(*) FROM jpa.wiki_page" -Database exo | Should -Be '500'
        Invoke-TestPostgresSql $Pg "SELECT count(*) FROM soc_activities" -Database $r.PreviousDataKeptAt | Should -Be '100000'
        Invoke-TestPostgresSql $Pg "SELECT count(*) FROM pg_database WHERE datname LIKE 'exo_exobackup_staged_%'" | Should -Be '0' -Because 'the staging database was renamed into place'
    }
    It 'restores under another name with -Database, and drops what it replaces with -DiscardReplaced' {
        $r = Restore-ExoSnapshot -Repository $Repo -Id $Done.Id -Component Database -Database exo_copy -Confirm:$false
        Get-Checksum exo_copy | Should -Be $Before
        $r = Restore-ExoSnapshot -Repository $Repo -Id $Done.Id -Component Database -Database exo_copy -DiscardReplaced -Confirm:$false
        $r.PreviousDataKeptAt | Should -BeNullOrEmpty
    }
    It 'restores as eXo''s own user only where it may, and leaves eXo''s user the owner of what an admin restored (finding 6.1)' {
        Invoke-TestPostgresSql $Pg 'ALTER ROLE exo NOCREATEDB' | Out-Null   # as DBAs set eXo's user up
        try {
            $inPlace = Get-Checksum
            $err = $null
            try { Restore-ExoSnapshot -Repository $Repo -Id $Done.Id -Component Database -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.InsufficientPrivilege*'
            "$err" | Should -Match 'CREATEDB.*Nothing was changed'
            $err.ErrorDetails.RecommendedAction | Should -Match '-Credential'
            Get-Checksum | Should -Be $inPlace
            Invoke-TestPostgresSql $Pg "SELECT count(*) FROM pg_database WHERE datname LIKE '%exobackup%'" | Should -Be '0'

            # A DBA role (not a superuser) with CREATEDB and membership of exo restores it; exo owns all of it.
            Invoke-TestPostgresSql $Pg "CREATE ROLE dba LOGIN CREATEDB PASSWORD 'dba-Secret-1'; GRANT exo TO dba;" | Out-Null
            $dba = [pscredential]::new('dba', (ConvertTo-SecureString 'dba-Secret-1' -AsPlainText -Force))
            $null = Restore-ExoSnapshot -Repository $Repo -Id $Done.Id -Component Database -Credential $dba -DiscardReplaced -Confirm:$false
            Get-Checksum | Should -Be $Before
            Invoke-TestPostgresSql $Pg "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'exo'" | Should -Be 'exo'
            $foreign = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND c.relowner <> 'exo'::regrole"
            Invoke-TestPostgresSql $Pg $foreign -Database exo | Should -Be '0'
            Invoke-TestPostgresSql $Pg "SET ROLE exo; INSERT INTO soc_activities SELECT * FROM soc_activities WHERE false; UPDATE soc_activities SET id = id WHERE id = 1; ALTER TABLE jpa.wiki_page ADD COLUMN probe int; ALTER TABLE jpa.wiki_page DROP COLUMN probe;" -Database exo | Out-Null
        }
        finally { Invoke-TestPostgresSql $Pg 'ALTER ROLE exo CREATEDB' | Out-Null }
    }
    It 'never sends the password to a host the manifest names (finding 3.4)' {
        # A writer of the repository points the part at its own listener, sums recomputed; the weekly test runs.
        $forged = "$Root/repo-forged"
        Copy-Item -Recurse $Repo $forged
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $port = $listener.LocalEndpoint.Port
            Edit-SnapshotManifest "$forged/$($Done.Id)" {
                param($m) $m.parts | Where-Object component -eq 'Database' | ForEach-Object { $_.details.host = '127.0.0.1'; $_.details.port = "$port" }
            }
            Test-ExoSnapshot -Repository $forged -Id $Done.Id | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty -Because 'the forgery passes the checksums'
            $r = Test-ExoSnapshot -Repository $forged -Id $Done.Id -Level Restore -Platform $B.Home -WarningVariable w -WarningAction SilentlyContinue
            $listener.Pending() | Should -BeFalse -Because 'no connection may reach the host the manifest names'
            ($r | Where-Object Part -like 'Database*').Passed | Should -BeTrue -Because 'the scratch restore went to the server of the platform''s datasource'
            "$w" | Should -Match "was taken from 127\.0\.0\.1:$port; it goes to 127\.0\.0\.1:$($Pg.Port)"
        }
        finally { $listener.Stop() }
    }
    It 'restores into a database named a=b as itself, not as a conninfo string (finding 3.2)' {
        Restore-ExoSnapshot -Repository $Repo -Id $Done.Id -Component Database -Database 'a=b' -DiscardReplaced -Confirm:$false | Out-Null
        Get-Checksum "dbname='a=b'" | Should -Be $Before -Because 'psql, too, reads a bare a=b as a conninfo string'
        Invoke-TestPostgresSql $Pg "DROP DATABASE `"a=b`"" | Out-Null
    }
    It 'refuses a wrong password without echoing it' {
        $bad = [pscredential]::new('exo', (ConvertTo-SecureString 'wrong-Secret-42' -AsPlainText -Force))
        $s = New-ExoSnapshot $Repo $B.Home
        $err = $null
        try { $s | Backup-ExoDatabase -Credential $bad } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.DatabaseAuthenticationFailed,*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        "$err $($err.Exception)" | Should -Not -Match 'wrong-Secret-42'
        $s | Remove-ExoSnapshot -Confirm:$false
    }
    It 'says when the server is unreachable or the database is missing' {
        $gone = New-Bundle 'pg-gone' -Database PostgreSql -DatabaseHost 127.0.0.1 -DatabasePort (Get-FreeTcpPort) -FileCount 2 -LargeFileCount 0
        $s = New-ExoSnapshot "$Root/repo-pg-gone" $gone.Home
        { $s | Backup-ExoDatabase } | Should -Throw -ErrorId 'ExoBackup.DatabaseUnreachable,*'
        $nodb = New-Bundle 'pg-nodb' -Database PostgreSql -DatabaseHost 127.0.0.1 -DatabasePort $Pg.Port -DatabaseName missing -DatabasePassword $Pg.Password -FileCount 2 -LargeFileCount 0
        $s2 = New-ExoSnapshot "$Root/repo-pg-nodb" $nodb.Home
        { $s2 | Backup-ExoDatabase } | Should -Throw -ErrorId 'ExoBackup.DatabaseNotFound,*'
    }
    It 'names both versions when pg_dump is older than the server' {
        $env:EXOBACKUP_STANDIN_MODE = 'old'
        try {
            $s = New-ExoSnapshot $Repo $B.Home
            $err = $null
            try { $s | Backup-ExoDatabase -ToolPath $StandIns } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.ToolTooOld,*'
            $err.Exception.Message | Should -Match '9\.6'
            $err.Exception.Message | Should -Match 'PostgreSQL 15'
            $err.ErrorDetails.RecommendedAction | Should -Match 'postgresql-client-15'
        } finally { $env:EXOBACKUP_STANDIN_MODE = ''; $s | Remove-ExoSnapshot -Confirm:$false }
    }
    It 'yields no part when pg_dump <Mode>' -ForEach @(
        @{ Mode = 'fail'; Id = 'ExoBackup.ToolFailed' }
        @{ Mode = 'kill'; Id = 'ExoBackup.ToolFailed' }
        @{ Mode = 'truncate'; Id = 'ExoBackup.DumpIncomplete' }
    ) {
        $env:EXOBACKUP_STANDIN_MODE = $Mode
        try {
            $s = New-ExoSnapshot $Repo $B.Home
            { $s | Backup-ExoDatabase -ToolPath $StandIns } | Should -Throw -ErrorId "$Id,*"
            (Get-ExoSnapshot $Repo -Id $s.Id -IncludeIncomplete).Parts | Should -BeNullOrEmpty
            Get-ChildItem "$($s.Path)/db" -ErrorAction Ignore | Should -BeNullOrEmpty -Because 'a failed part removes what it wrote'
            { $s | Complete-ExoSnapshot } | Should -Throw -ErrorId 'ExoBackup.SnapshotEmpty,*'
        } finally { $env:EXOBACKUP_STANDIN_MODE = ''; $s | Remove-ExoSnapshot -Confirm:$false }
    }
    It 'says which tool is missing and how to install it' {
        $old = $env:PATH
        $env:PATH = "$Root/empty-path"
        try {
            $s = New-ExoSnapshot $Repo $B.Home
            $err = $null
            try { $s | Backup-ExoDatabase } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.ToolNotFound,*'
            $err.CategoryInfo.Category | Should -Be 'NotInstalled'
            $err.ErrorDetails.RecommendedAction | Should -Match 'apt-get install postgresql-client'
        } finally { $env:PATH = $old; $s | Remove-ExoSnapshot -Confirm:$false }
    }
    It 'dumps three separate databases as three parts, in parallel jobs with -Jobs' {
        foreach ($db in 'exo_idm', 'exo_jcr', 'exo_jpa') { Invoke-TestPostgresSql $Pg "SET ROLE exo; CREATE TABLE t_$db (id int PRIMARY KEY); INSERT INTO t_$db SELECT generate_series(1, 10);" -Database $db | Out-Null }
        $three = New-Bundle 'pg-three' -Database PostgreSql -DatabaseHost 127.0.0.1 -DatabasePort $Pg.Port `
            -DatabaseName exo -SeparateDatabases -DatabasePassword $Pg.Password -FileCount 2 -LargeFileCount 0
        $s = New-ExoSnapshot "$Root/repo-pg-three" $three.Home
        $parts = $s | Backup-ExoDatabase -Jobs 2
        $parts.Name | Should -Be @('exo_idm', 'exo_jcr', 'exo_jpa')
        $parts[0].Details.format | Should -Be 'directory'
        $done = $s | Complete-ExoSnapshot
        Test-ExoSnapshot -Repository "$Root/repo-pg-three" -Id $done.Id -Level Restore | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
    }
}

Describe 'MariaDB' -Skip:$NoMariaDb {
    BeforeAll {
        $My = Start-TestMariaDb -Root "$Root/maria" -Password 'my"pa$$ word\x'
        $schema = @'
CREATE DATABASE exo CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE exo;
CREATE TABLE jcr_item (id BIGINT PRIMARY KEY, name VARCHAR(200) NOT NULL, data LONGBLOB);
CREATE TABLE idm_user (id INT AUTO_INCREMENT PRIMARY KEY, login VARCHAR(100) UNIQUE, display_name VARCHAR(200));
CREATE TABLE soc_activities (id BIGINT PRIMARY KEY, title VARCHAR(200), posted DATETIME);
INSERT INTO jcr_item SELECT seq, CONCAT('node-', seq), UNHEX(REPEAT(MD5(seq), 16)) FROM seq_1_to_2000;
INSERT INTO idm_user (login, display_name) VALUES ('root', 'Root Root'), ('mary', 'Mary Käßler — 文字'), ('jöhn', 'Jöhn O''Connor');
INSERT INTO soc_activities SELECT seq, CONCAT('activity ', seq, ' ✓'), NOW() - INTERVAL seq MINUTE FROM seq_1_to_200000;
CREATE TRIGGER trg BEFORE INSERT ON idm_user FOR EACH ROW SET NEW.display_name = TRIM(NEW.display_name);
'@
        Invoke-TestMariaDbSql $My $schema | Out-Null
        $B = New-Bundle 'my-exo' -Database MySql -DatabaseHost 127.0.0.1 -DatabasePort $My.Port `
            -DatabaseName exo -DatabaseUser exo -DatabasePassword $My.Password -FileCount 10 -LargeFileCount 0
        $Repo = "$Root/repo-my"
        function Get-Checksum([string] $Database = 'exo') {
            Invoke-TestMariaDbSql $My "SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, title) ORDER BY id SEPARATOR ',')) FROM soc_activities; SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, HEX(data)) ORDER BY id)) FROM jcr_item; SELECT GROUP_CONCAT(display_name ORDER BY id) FROM idm_user;" -Database $Database
        }
        Invoke-TestMariaDbSql $My 'SET GLOBAL group_concat_max_len = 1073741824;' | Out-Null
        $Before = Get-Checksum
        $env:EXOBACKUP_STANDIN_LOG = "$Root/my-standin.log"
        $S = New-ExoSnapshot $Repo $B.Home
        $Parts = @($S | Backup-ExoDatabase -ToolPath $StandIns)
        $Done = $S | Complete-ExoSnapshot
    }
    AfterAll { Stop-TestMariaDb $My; $env:EXOBACKUP_STANDIN_MODE = '' }

    It 'dumps the database through zstd with the binary-log position and row counts' {
        $Parts | Should -HaveCount 1
        $Parts[0].Tool | Should -Be 'mariadb-dump'
        $Parts[0].Files | Should -Be @('db/exo.sql.zst')
        $Parts[0].Details.binlogFile | Should -Match '^binlog\.'
        ($Parts[0].Details.rowCounts | ConvertFrom-Json).soc_activities | Should -Be 200000
        $text = zstd -dc "$($Done.Path)/db/exo.sql.zst" | Select-Object -Last 1
        $text | Should -Match '^-- Dump completed'
        Get-WiderThanPrivate $Done.Path | Should -BeNullOrEmpty
    }
    It 'refuses a password whose line breaks would add options (plugin-dir, default-auth) before any tool runs, and never shows it' {
        # Finding 2.1: the account may set its own password; eXo reads it from server.xml, where &#10; is a line break.
        $evil = "x`nplugin-dir=$Root/evil-lib`ndefault-auth=evil`n#"
        Invoke-TestMariaDbSql $My "CREATE USER 'exo_evil'@'%' IDENTIFIED BY '$($evil.Replace('\', '\\').Replace("'", "''"))'; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON exo.* TO 'exo_evil'@'%';" | Out-Null
        $evilBundle = New-Bundle 'my-evil' -Database MySql -DatabaseHost 127.0.0.1 -DatabasePort $My.Port `
            -DatabaseName exo -DatabaseUser exo_evil -DatabasePassword $evil -FileCount 1 -LargeFileCount 0
        Get-Content "$($evilBundle.Home)/conf/server.xml" -Raw | Should -Match '&#10;plugin-dir='
        $saved = $env:EXOBACKUP_STANDIN_LOG
        $env:EXOBACKUP_STANDIN_LOG = "$Root/my-evil.log"
        $s = New-ExoSnapshot "$Root/repo-evil" $evilBundle.Home
        $err = $null
        try { $s | Backup-ExoDatabase -ToolPath $StandIns -ErrorAction Stop } catch { $err = $_ } finally { $env:EXOBACKUP_STANDIN_LOG = $saved }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.UnsafeSetting*'
        "$err $($err.ErrorDetails.RecommendedAction)" | Should -Not -Match 'plugin-dir|evil-lib'
        $runs = @((Read-StandInLog "$Root/my-evil.log") -split "`n" | Where-Object { $_ -like 'ARGS: *' })
        $runs | Should -Be @('ARGS: --version') -Because 'the tool only told its version; it never ran with an option file'
        Get-ChildItem "$Root/repo-evil" -Recurse -Filter '*.cnf' | Should -BeNullOrEmpty
    }
    It 'stops a restore by eXo''s own user, with rights on its database only, before changing anything (finding 6.1)' {
        Invoke-TestMariaDbSql $My "CREATE USER 'exo_own'@'%' IDENTIFIED BY 'own-Secret-1'; GRANT ALL ON exo.* TO 'exo_own'@'%';" | Out-Null
        $inPlace = Get-Checksum
        $own = [pscredential]::new('exo_own', (ConvertTo-SecureString 'own-Secret-1' -AsPlainText -Force))
        $err = $null
        try { Restore-ExoSnapshot -Repository $Repo -Id $Done.Id -Component Database -Credential $own -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.InsufficientPrivilege*'
        "$err" | Should -Match 'CREATE on other databases.*Nothing was changed'
        $err.ErrorDetails.RecommendedAction | Should -Match '-Credential'
        Get-Checksum | Should -Be $inPlace
        Invoke-TestMariaDbSql $My "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE '%exobackup%'" | Should -Be '0' -Because 'no staging database was created'
    }
    It 'refuses SQL forged into the recorded character set, before any statement (finding 3.1)' {
        $forged = "$Root/repo-my-forged"
        Copy-Item -Recurse $Repo $forged
        Edit-SnapshotManifest "$forged/$($Done.Id)" {
            param($m) $m.parts | Where-Object component -eq 'Database' | ForEach-Object { $_.details.charset = "utf8mb4; GRANT ALL ON *.* TO 'planted'@'%' IDENTIFIED BY 'x' WITH GRANT OPTION; #" }
        }
        $err = $null
        try { Restore-ExoSnapshot -Repository $forged -Id $Done.Id -Component Database -Database exo_forged -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.RepositoryCorrupt*'
        Invoke-TestMariaDbSql $My "SELECT COUNT(*) FROM mysql.user WHERE user = 'planted'" | Should -Be '0'
        Invoke-TestMariaDbSql $My "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE 'exo_forged%'" | Should -Be '0'
    }
    It 'refuses a database name that is an option (--init-command= runs SQL), creating nothing (finding 3.2)' {
        $err = $null
        try { Restore-ExoSnapshot -Repository $Repo -Id $Done.Id -Component Database -Database '--init-command=CREATE USER planted' -DiscardReplaced -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.UnsafeSetting*'
        Invoke-TestMariaDbSql $My "SELECT COUNT(*) FROM mysql.user WHERE user = 'planted'" | Should -Be '0'
        Invoke-TestMariaDbSql $My "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE '%init-command%'" | Should -Be '0'
    }
    It 'gives the password only through a 0600 --defaults-file, as its first option' {
        $log = Read-StandInLog $env:EXOBACKUP_STANDIN_LOG
        $log | Should -Match 'ARGS: --defaults-file=\S+ --single-transaction --routines --triggers --events --hex-blob --default-character-set=utf8mb4'
        $log | Should -Not -Match ([regex]::Escape($My.Password))
        $log | Should -Not -Match 'ENV: MYSQL_PWD='
        $log | Should -Match 'PASSFILE-MODE: 600'
    }
    It 'passes Test-ExoSnapshot -Level Archive and -Level Restore' {
        Test-ExoSnapshot -Repository $Repo -Id $Done.Id -Level Restore | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
        Invoke-TestMariaDbSql $My "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'exobackup_test_%'" | Should -Be '0'
    }
    It 'restores the database through a staging database, keeping the one it replaces (tables moved, triggers with them)' {
        $kept = (Invoke-TestMariaDbSql $My 'SELECT COUNT(*) FROM soc_activities WHERE id % 3 <> 0' -Database exo)
        Invoke-TestMariaDbSql $My 'DELETE FROM soc_activities WHERE id % 3 = 0' -Database exo | Out-Null
        $r = Restore-ExoSnapshot -Repository $Repo -Id $Done.Id -Component Database -Confirm:$false
        Get-Checksum | Should -Be $Before
        Invoke-TestMariaDbSql $My "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'exo'" | Should -Be '1'
        $r.PreviousDataKeptAt | Should -Match '^exo_pre_restore_'
        Invoke-TestMariaDbSql $My 'SELECT COUNT(*) FROM soc_activities' -Database $r.PreviousDataKeptAt | Should -Be $kept
        Invoke-TestMariaDbSql $My "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '$($r.PreviousDataKeptAt)'" | Should -Be '1'
        Invoke-TestMariaDbSql $My "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'exo\_exobackup\_staged\_%'" | Should -Be '0'
    }
    It 'leaves the database in place untouched when the restore fails, and drops the staging database' {
        Invoke-TestMariaDbSql $My 'DELETE FROM soc_activities WHERE id % 5 = 0' -Database exo | Out-Null
        $before = Invoke-TestMariaDbSql $My 'SELECT COUNT(*) FROM soc_activities' -Database exo
        $env:EXOBACKUP_STANDIN_MODE = 'fail'
        try { { Restore-ExoSnapshot -Repository $Repo -Id $Done.Id -Component Database -ToolPath $StandIns -Confirm:$false } | Should -Throw }
        finally { $env:EXOBACKUP_STANDIN_MODE = '' }
        Invoke-TestMariaDbSql $My 'SELECT COUNT(*) FROM soc_activities' -Database exo | Should -Be $before
        Invoke-TestMariaDbSql $My "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'exo\_exobackup\_staged\_%'" | Should -Be '0'
    }
    It 'yields no part when the dump is cut short but exits 0' {
        $env:EXOBACKUP_STANDIN_MODE = 'truncate'
        try {
            $s = New-ExoSnapshot $Repo $B.Home
            { $s | Backup-ExoDatabase -ToolPath $StandIns } | Should -Throw -ErrorId 'ExoBackup.DumpIncomplete,*'
            Get-ChildItem "$($s.Path)/db" -ErrorAction Ignore | Should -BeNullOrEmpty
        } finally { $env:EXOBACKUP_STANDIN_MODE = ''; $s | Remove-ExoSnapshot -Confirm:$false }
    }
    It 'refuses a wrong password without echoing it' {
        $bad = [pscredential]::new('exo', (ConvertTo-SecureString 'wrong-Secret-43' -AsPlainText -Force))
        $s = New-ExoSnapshot $Repo $B.Home
        $err = $null
        try { $s | Backup-ExoDatabase -Credential $bad } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.DatabaseAuthenticationFailed,*'
        "$err" | Should -Not -Match 'wrong-Secret-43'
        $s | Remove-ExoSnapshot -Confirm:$false
    }
}

Describe 'Embedded HSQLDB and Oracle' {
    It 'records HSQLDB as held in the data dir and refuses Oracle with what to use instead' {
        $h = New-Bundle 'hsql' -FileCount 2 -LargeFileCount 0
        $s = New-ExoSnapshot "$Root/repo-hsql" $h.Home
        $p = $s | Backup-ExoDatabase -WarningAction SilentlyContinue
        $p.Name | Should -Be 'hsqldb'
        $p.Details.heldIn | Should -Be 'DataDir'
        $o = New-Bundle 'ora' -Database Oracle -FileCount 2 -LargeFileCount 0
        $s2 = New-ExoSnapshot "$Root/repo-ora" $o.Home
        $err = $null
        try { $s2 | Backup-ExoDatabase } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.NotSupported,*'
        $err.ErrorDetails.RecommendedAction | Should -Match 'RMAN'
    }
}

Describe 'SQL Server against a real server' {
    # EXOBACKUP_TEST_SQLSERVER: "host[,port];user;password;database" of a server this machine reaches;
    # EXOBACKUP_TEST_SQLSERVER_PATH: a folder the server writes its .bak into (and this machine reads).
    It 'backs up with BACKUP DATABASE, verifies and restores under another name' {
        if (-not $env:EXOBACKUP_TEST_SQLSERVER) { Set-ItResult -Skipped -Because 'EXOBACKUP_TEST_SQLSERVER is not set: no SQL Server can be installed on this machine (the T-SQL and the connection handling are tested by xUnit)'; return }
        $server, $user, $password, $database = $env:EXOBACKUP_TEST_SQLSERVER -split ';'
        $sqlHost, $port = $server -split ','
        $b = New-Bundle 'mssql' -Database SqlServer -DatabaseHost $sqlHost -DatabasePort $(if ($port) { $port } else { 1433 }) `
            -DatabaseName $database -DatabaseUser $user -DatabasePassword $password -FileCount 2 -LargeFileCount 0
        $s = New-ExoSnapshot "$Root/repo-mssql" $b.Home
        $p = $s | Backup-ExoDatabase -ServerBackupPath $env:EXOBACKUP_TEST_SQLSERVER_PATH
        $p.Tool | Should -Be 'BACKUP DATABASE'
        $done = $s | Complete-ExoSnapshot
        $r = Restore-ExoSnapshot -Repository "$Root/repo-mssql" -Id $done.Id -Component Database -Database "$($database)_exobackup_copy" -DiscardReplaced -Confirm:$false
        $r.Target | Should -Match '_exobackup_copy'
    }
}

Describe 'Ctrl+C and secrets' -Tag Reliability -Skip:$NoPostgres {
    BeforeAll {
        $Pg = Start-TestPostgres -Root "$Root/pg-secrets" -Password 'Secret-Scan-7731'
        Invoke-TestPostgresSql $Pg 'CREATE DATABASE exo OWNER exo' | Out-Null
        Invoke-TestPostgresSql $Pg 'SET ROLE exo; CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000);' -Database exo | Out-Null
        $B = New-Bundle 'pg-secrets-exo' -Database PostgreSql -DatabaseHost 127.0.0.1 -DatabasePort $Pg.Port -DatabasePassword $Pg.Password -FileCount 5 -LargeFileCount 0
        $env:EXOBACKUP_STANDIN_LOG = "$Root/secrets-standin.log"
    }
    AfterAll { Stop-TestPostgres $Pg; $env:EXOBACKUP_STANDIN_MODE = '' }
    It 'kills the dump tool and leaves no secret file on Ctrl+C' {
        $env:EXOBACKUP_STANDIN_MODE = 'slow'
        try {
            $ps = [powershell]::Create()
            $null = $ps.AddScript("Import-Module '$env:EXOBACKUP_MODULE'; `$s = New-ExoSnapshot '$Root/repo-secrets' '$($B.Home)'; `$s | Backup-ExoDatabase -ToolPath '$StandIns'")
            $null = $ps.BeginInvoke()
            Wait-Until { Test-Path "$env:EXOBACKUP_STANDIN_LOG.pid" } -TimeoutSeconds 30 -Because 'the stand-in pg_dump to start'
            $toolPid = [int](Get-Content "$env:EXOBACKUP_STANDIN_LOG.pid")
            (Get-Process -Id $toolPid -ErrorAction Ignore) | Should -Not -BeNullOrEmpty
            $ps.Stop(); $ps.Dispose()
            Wait-Until { -not (Test-Path "/proc/$toolPid") -or (Get-Content "/proc/$toolPid/stat" -ErrorAction Ignore) -match '\) Z ' } -TimeoutSeconds 10 -Because 'pg_dump to be killed'
            Get-ChildItem ([System.IO.Path]::GetTempPath()) -Directory -Filter "exobackup-secret-$PID-*" | Should -BeNullOrEmpty
        } finally { $env:EXOBACKUP_STANDIN_MODE = '' }
    }
    It 'keeps the password out of verbose output, warnings, errors, the manifest and the tools'' command lines and environments' {
        Remove-Item $env:EXOBACKUP_STANDIN_LOG -ErrorAction Ignore
        Get-ExoSnapshot "$Root/repo-secrets" -IncludeIncomplete | Remove-ExoSnapshot -Confirm:$false
        $s = New-ExoSnapshot "$Root/repo-secrets" $B.Home
        $streams = $s | Backup-ExoDatabase -ToolPath $StandIns -Verbose *>&1 | Out-String
        $done = $s | Complete-ExoSnapshot -Verbose *>&1 | Out-String
        $test = Test-ExoSnapshot -Repository "$Root/repo-secrets" -Id (Get-ExoSnapshot "$Root/repo-secrets" -Latest).Id -Level Restore -Verbose *>&1 | Out-String
        $restore = Restore-ExoSnapshot -Repository "$Root/repo-secrets" -Id (Get-ExoSnapshot "$Root/repo-secrets" -Latest).Id -Component Database -Confirm:$false -Verbose *>&1 | Out-String
        $bad = [pscredential]::new('exo', (ConvertTo-SecureString 'Secret-Scan-7731-wrong' -AsPlainText -Force))
        $s2 = New-ExoSnapshot "$Root/repo-secrets" $B.Home
        $failure = try { $s2 | Backup-ExoDatabase -Credential $bad -Verbose *>&1 | Out-String } catch { "$_ $($_.Exception) $($_.ErrorDetails) $($_.ScriptStackTrace)" }
        $files = (Get-ChildItem "$Root/repo-secrets" -Recurse -File -Include 'manifest.json', 'SHA256SUMS', '*.json' | Get-Content -Raw) -join ''
        foreach ($text in $streams, $done, $test, $restore, $failure, $files, (Get-Content $env:EXOBACKUP_STANDIN_LOG -Raw)) {
            $text | Should -Not -Match 'Secret-Scan-7731'
        }
        $s2 | Remove-ExoSnapshot -Confirm:$false
    }
}
