# Packaging, tab completion, JSON output: the module as an admin installs and uses it.
BeforeAll { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'package-tests' }
AfterAll { Remove-Item -Recurse -Force $Root -ErrorAction Ignore }

Describe 'Package' {
    It 'makes a versioned folder and a .nupkg that Install-PSResource installs from a local repository' {
        $pkg = & (Join-Path $env:EXOBACKUP_TESTS '../tools/New-ModulePackage.ps1') -ModuleDir (Split-Path $env:EXOBACKUP_MODULE) -OutDir "$Root/package"
        $pkg.Folder | Should -Exist
        "$($pkg.Folder)/Dependencies/ExoBackup.Engine.dll" | Should -Exist
        $pkg.Package | Should -BeLike '*ExoBackup.0.1.0.nupkg'
        # A fresh pwsh with its own HOME: the CurrentUser module folder is a temporary one. Its
        # .local/share must exist: .NET names no LocalApplicationData otherwise, and PSResourceGet
        # then writes its repository list into the working folder (the repository's root).
        $r = Invoke-FreshPwsh @"
`$env:HOME = '$Root/home'; New-Item -ItemType Directory -Force `$env:HOME/.local/share | Out-Null
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name exotest -Uri '$Root/package/repository' -Trusted -Force
try {
    Install-PSResource -Name ExoBackup -Repository exotest -Scope CurrentUser -TrustRepository -Quiet
    # This pwsh computed its module path from the real HOME when it started: add the new one.
    `$env:PSModulePath = "`$env:HOME/.local/share/powershell/Modules:`$env:PSModulePath"
    Import-Module ExoBackup
    'installed ' + (Get-Module ExoBackup).ModuleBase
    'drivers ' + @(Get-ExoDriver | Where-Object Loaded).Count
} finally { Unregister-PSResourceRepository -Name exotest }
"@
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match "installed $([regex]::Escape("$Root/home"))/\S+/ExoBackup/0\.1\.0"
        $r.Output | Should -Match 'drivers 4'
    }
}

Describe 'Tab completion' {
    BeforeAll {
        $b = New-Bundle 'exo' -FileCount 5 -LargeFileCount 0
        $Repo = "$Root/repo"
        $S1 = New-ExoSnapshot $Repo $b.Home; $null = $S1 | Backup-ExoConfiguration; $null = $S1 | Complete-ExoSnapshot
        $S2 = New-ExoSnapshot $Repo $b.Home -Type Incremental; $null = $S2 | Backup-ExoConfiguration; $null = $S2 | Complete-ExoSnapshot
        function Complete([string] $Line) { (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText }
    }
    It 'completes snapshot ids from the repository given, newest first' {
        Complete "Test-ExoSnapshot -Repository $Repo -Id 2" | Should -Be @($S2.Id, $S1.Id)
        Complete "Get-ExoSnapshot -Repository $Repo -Id *incr" | Should -BeNullOrEmpty -Because 'only prefixes complete'
        Complete "Restore-ExoSnapshot -Repository $Repo -Id $($S1.Id.Substring(0, 17))" | Should -Contain $S1.Id
    }
    It 'completes components, datasources and methods' {
        Complete 'Restore-ExoSnapshot -Component Da' | Sort-Object | Should -Be @('Database', 'DataDir')
        Complete 'Backup-ExoDatabase -Datasource j' | Should -Be @('jcr', 'jpa')
        Complete 'Backup-ExoChat -ChatMethod D' | Should -Be @('Driver')
    }
}

Describe 'JSON output' {
    It 'converts every output type to clean JSON: no secrets, no runaway nesting' {
        $b = New-Bundle 'json' -Database PostgreSql -DatabasePassword 'Json-Secret-1' -Chat -ChatUser chat -ChatPassword 'Json-Secret-2' -FileCount 5 -LargeFileCount 0
        $s = New-ExoSnapshot "$Root/repo-json" $b.Home
        $part = $s | Backup-ExoConfiguration
        $done = $s | Complete-ExoSnapshot
        $tests = $done | Test-ExoSnapshot
        $json = (Get-ExoPlatform $b.Home | ConvertTo-Json -Depth 6) + ($done | ConvertTo-Json -Depth 6) + ($part | ConvertTo-Json -Depth 6) + ($tests | ConvertTo-Json -Depth 6)
        $json | Should -Not -Match 'Json-Secret'
        $json.Length | Should -BeLessThan 200000
        ($done | ConvertTo-Json -Depth 6 | ConvertFrom-Json).Parts[0].Component | Should -Be 'Configuration'
    }
}
