# Get-ExoPlatform against generated bundles: variants, pipeline input, output shape, errors.
BeforeAll {
    . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'platform-tests'
    $Hsql = New-Bundle 'hsql' -FileCount 20 -LargeFileCount 0 -Elasticsearch
    $Pg = New-Bundle 'pg' -Database PostgreSql -DatabaseHost pg.example -DatabasePort 5433 `
        -DatabasePassword 'pa&ss"word' -SeparateDatabases -FileCount 10 -LargeFileCount 0 -Chat -ChatHosts 'm1:27017', 'm2:27018' -ChatUser chat -ChatPassword 'chat-secret'
}
AfterAll { Remove-Item -Recurse -Force $Root -ErrorAction Ignore }

Describe 'Get-ExoPlatform' {
    It 'reads the embedded default bundle' {
        $p = Get-ExoPlatform -Platform $Hsql.Home
        $p.PSObject.TypeNames[0] | Should -Be 'ExoBackup.Platform'
        $p.Home | Should -Be $Hsql.Home
        $p.Version | Should -Be '7.0.0'
        $p.ProductName | Should -Be 'eXo Platform'
        $p.DataDir | Should -Be $Hsql.DataDir
        $p.JcrValuesDir | Should -Be "$($Hsql.DataDir)/jcr/values"
        $p.HsqldbDir | Should -Be "$($Hsql.DataDir)/hsql"
        $p.HasEmbeddedElasticsearch | Should -BeTrue
        $p.HasCodecKey | Should -BeTrue
        $p.ShutdownPort | Should -Be $Hsql.ShutdownPort
        $p.HttpPort | Should -Be $Hsql.HttpPort
        $p.IsRunning | Should -BeFalse
        $p.Datasources.Engine | Should -Be @('Hsqldb', 'Hsqldb', 'Hsqldb')
        $p.Datasources[0].Database | Should -Be "$($Hsql.DataDir)/hsql/exo-plf"
        $p.Chat | Should -BeNullOrEmpty
    }
    It 'reads PostgreSQL datasources, three databases, and chat with authentication' {
        $p = Get-ExoPlatform $Pg.Home
        $p.Datasources.Name | Should -Be @('idm', 'jcr', 'jpa')
        $p.Datasources.Database | Should -Be @('exo_idm', 'exo_jcr', 'exo_jpa')
        $p.Datasources | ForEach-Object { $_.Engine | Should -Be 'PostgreSql'; $_.Host | Should -Be 'pg.example'; $_.Port | Should -Be 5433 }
        $p.Datasources[0].Credential.UserName | Should -Be 'exo'
        $p.Datasources[0].Credential.GetNetworkCredential().Password | Should -Be 'pa&ss"word'
        $p.Chat.Hosts | Should -Be @('m1:27017', 'm2:27018')
        $p.Chat.Authentication | Should -BeTrue
        $p.Chat.Credential.GetNetworkCredential().Password | Should -Be 'chat-secret'
        $p.Chat.ConnectionString | Should -Be 'mongodb://chat@m1:27017,m2:27018/chat?authSource=admin'
    }
    It 'never shows a password in its formatted output or its JSON' {
        $p = Get-ExoPlatform $Pg.Home
        $text = ($p | Format-List * | Out-String) + ($p.Datasources | Format-List * | Out-String) + ($p.Chat | Format-List * | Out-String) + ($p | ConvertTo-Json -Depth 5)
        $text | Should -Not -Match 'pa&ss'
        $text | Should -Not -Match 'chat-secret'
    }
    It 'takes paths from the pipeline, by value and by property name, several at once' {
        @($Hsql.Home, $Pg.Home | Get-ExoPlatform).Home | Should -Be @($Hsql.Home, $Pg.Home)
        @(Get-Item $Hsql.Home, $Pg.Home | Get-ExoPlatform).Count | Should -Be 2
        @([pscustomobject]@{ Home = $Pg.Home } | Get-ExoPlatform).Home | Should -Be $Pg.Home
    }
    It 'resolves a relative path against the current location' {
        Push-Location $Hsql.Home
        try { (Get-ExoPlatform).Home | Should -Be $Hsql.Home } finally { Pop-Location }
    }
    It 'follows EXO_DATA_DIR from setenv-customize.sh' {
        Add-Content "$($Hsql.Home)/bin/setenv-customize.sh" "export EXO_DATA_DIR=`"`$CATALINA_BASE/other-data`""
        try { (Get-ExoPlatform $Hsql.Home).DataDir | Should -Be "$($Hsql.Home)/other-data" }
        finally { (Get-Content "$($Hsql.Home)/bin/setenv-customize.sh" | Select-Object -SkipLast 1) | Set-Content "$($Hsql.Home)/bin/setenv-customize.sh" }
    }
    It 'formats as a table and as a list' {
        (Get-ExoPlatform $Pg.Home | Out-String) | Should -Match 'PostgreSql'
        (Get-ExoPlatform $Pg.Home | Format-List | Out-String) | Should -Match 'JcrValuesDir'
        (Get-ExoPlatform $Pg.Home).Datasources | Out-String | Should -Match 'pg\.example:5433'
    }
}

Describe 'Get-ExoPlatform on bad input' {
    It 'stops a script with ExoBackup.NotAnExoBundle for a folder that is not a bundle' {
        { Get-ExoPlatform -Platform $Root -ErrorAction Stop } | Should -Throw -ErrorId 'ExoBackup.NotAnExoBundle,ExoBackup.Commands.GetExoPlatformCommand'
        # An error about one input is non-terminating: the next path is read, -ErrorAction decides.
        $found = Get-ExoPlatform "$Root/nope", $Hsql.Home -ErrorVariable errs -ErrorAction SilentlyContinue
        @($found).Count | Should -Be 1
        $found.Home | Should -Be $Hsql.Home
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ExoBackup.PlatformNotFound,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
    It 'says ExoBackup.PlatformNotFound for a missing folder' {
        $err = $null
        try { Get-ExoPlatform "$Root/missing" } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.PlatformNotFound,*'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
    }
    It 'names the file and line of malformed XML' {
        $bad = "$Root/bad"
        Copy-Item $Hsql.Home $bad -Recurse
        Set-Content "$bad/conf/server.xml" "<?xml version=`"1.0`"?>`n<Server port=`"8005`">`n<GlobalNamingResources>`n</Server>"
        $err = $null
        try { Get-ExoPlatform $bad } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.ConfigurationMalformed,*'
        $err.Exception.Message | Should -Match 'server\.xml'
        $err.Exception.Message | Should -Match 'line 4'
        $err.TargetObject | Should -Be "$bad/conf/server.xml"
    }
    It 'reports a chat.properties it cannot read, naming it' {
        # A folder where the file should be cannot be read, even by root.
        $bad = "$Root/unreadable"
        Copy-Item $Hsql.Home $bad -Recurse
        New-Item -ItemType Directory "$bad/gatein/conf/chat.properties" | Out-Null
        $err = $null
        try { Get-ExoPlatform $bad } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.ConfigurationUnreadable,*'
        $err.Exception.Message | Should -Match 'chat\.properties'
    }
}
