# The built module: its layout, its manifest, and its dependency isolation.
BeforeAll {
    . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1')
    $ModulePath = $env:EXOBACKUP_MODULE
    $ModuleDir = Split-Path $ModulePath
}

Describe 'Module layout' {
    It 'holds only the shim, the manifest, the format file and help at its root' {
        $names = Get-ChildItem $ModuleDir | ForEach-Object Name | Sort-Object
        $names | Should -Be @('Dependencies', 'en-US', 'ExoBackup.dll', 'ExoBackup.format.ps1xml', 'ExoBackup.pdb', 'ExoBackup.psd1')
    }
    It 'keeps the engine and every driver in Dependencies' {
        foreach ($dll in 'ExoBackup.Engine.dll', 'Npgsql.dll', 'MySqlConnector.dll', 'MongoDB.Driver.dll', 'Microsoft.Data.SqlClient.dll') {
            Join-Path $ModuleDir "Dependencies/$dll" | Should -Exist
        }
        Join-Path $ModuleDir 'Dependencies/runtimes/unix/lib/net8.0/Microsoft.Data.SqlClient.dll' | Should -Exist
    }
    It 'has a valid manifest for PowerShell 7.4+ Core that exports its cmdlets by name' {
        $m = Test-ModuleManifest $ModulePath
        $m.CompatiblePSEditions | Should -Be @('Core')
        $m.PowerShellVersion | Should -Be ([version] '7.4')
        $m.RootModule | Should -Be 'ExoBackup.dll'
        (Get-Command -Module ExoBackup).Name | Sort-Object | Should -Be ($m.ExportedCmdlets.Keys | Sort-Object)
        $m.RequiredAssemblies | Should -BeNullOrEmpty
    }
}

Describe 'Dependency isolation' {
    It 'loads all four drivers into the private ExoBackup load context' {
        $drivers = Get-ExoDriver
        $drivers | Should -HaveCount 4
        foreach ($d in $drivers) {
            $d.Error | Should -BeNullOrEmpty -Because "$($d.Name) should load"
            $d.Loaded | Should -BeTrue
            $d.LoadContext | Should -Be 'ExoBackup'
            $d.Location | Should -BeLike "$ModuleDir/Dependencies/*"
        }
    }
    It 'takes SqlClient from runtimes/<os>/lib, not the platform stub' {
        (Get-ExoDriver | Where-Object Assembly -eq 'Microsoft.Data.SqlClient').Location |
            Should -BeLike '*/Dependencies/runtimes/unix/lib/net8.0/Microsoft.Data.SqlClient.dll'
    }
    It 'leaves no driver in the default load context' {
        $default = [System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies.GetName().Name
        $default | Should -Not -Contain 'Npgsql'
        $default | Should -Not -Contain 'Microsoft.Data.SqlClient'
        $default | Should -Not -Contain 'ExoBackup.Engine'
    }
    It 'works in a session where another version of Npgsql was loaded first' {
        $old = Get-ChildItem (Join-Path $env:EXOBACKUP_TESTS '../out/tools/packages/npgsql/8.0.5/lib/net8.0/Npgsql.dll') | Select-Object -First 1
        $old | Should -Not -BeNullOrEmpty -Because 'build.ps1 restores Npgsql 8.0.5 as a test tool'
        $r = Invoke-FreshPwsh @"
`$ErrorActionPreference = 'Stop'
Add-Type -Path '$($old.FullName)'
Import-Module '$ModulePath'
`$pg = Get-ExoDriver | Where-Object Assembly -eq 'Npgsql'
"session=`$([Npgsql.NpgsqlConnection].Assembly.GetName().Version)"
"module=`$(`$pg.Version) `$(`$pg.LoadContext) `$(`$pg.Loaded)"
"@
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match 'session=8\.0\.5'
        $r.Output | Should -Match 'module=10\.0\.3 ExoBackup True'
    }
    It 'imports in a fresh pwsh and can be removed and imported again' {
        $r = Invoke-FreshPwsh "`$ErrorActionPreference='Stop'; Import-Module '$ModulePath'; Remove-Module ExoBackup; Import-Module '$ModulePath'; (Get-ExoDriver | Where-Object Loaded).Count"
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Output.Trim() | Should -Be '4'
    }
    It 'leaves no core file to hold the secrets it reads: not dumpable, core size 0 (finding 2.14)' -Skip:(-not $IsLinux) {
        $r = Invoke-FreshPwsh @"
Add-Type -Namespace Probe -Name Libc -MemberDefinition '[DllImport("libc")] public static extern int prctl(int option, ulong a, ulong b, ulong c, ulong d);'
"before=`$([Probe.Libc]::prctl(3, 0, 0, 0, 0))"
Import-Module '$ModulePath'
"after=`$([Probe.Libc]::prctl(3, 0, 0, 0, 0))"
(Get-Content /proc/self/limits | Where-Object { `$_ -like 'Max core file size*' }) -replace '\s+', ' '
"@
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match 'before=1'
        $r.Output | Should -Match 'after=0'
        $r.Output | Should -Match 'Max core file size 0 0 bytes'
    }
}

Describe 'Enums the module mirrors from the engine' {
    It 'has, for every pair, the same names with the same values' {
        $null = Get-ExoDriver # loads the engine into its private context
        $engine = [System.Runtime.Loader.AssemblyLoadContext]::All.Assemblies | Where-Object { $_.GetName().Name -eq 'ExoBackup.Engine' } | Select-Object -First 1
        $engine | Should -Not -BeNullOrEmpty
        $pairs = @{
            'ExoBackup.SnapshotType' = 'ExoBackup.Engine.Repository.SnapshotType'
            'ExoBackup.SnapshotStatus' = 'ExoBackup.Engine.Repository.SnapshotStatus'
            'ExoBackup.Consistency' = 'ExoBackup.Engine.Repository.Consistency'
            'ExoBackup.CompressionType' = 'ExoBackup.Engine.Archive.CompressionKind'
            'ExoBackup.VerifyLevel' = 'ExoBackup.Engine.Restore.VerifyLevel'
            'ExoBackup.ChatBackupMethod' = 'ExoBackup.Engine.Chat.ChatMethod'
            'ExoBackup.DatabaseEngine' = 'ExoBackup.Engine.Platform.DatabaseEngine'
        }
        foreach ($module in $pairs.Keys) {
            $m = $module -as [type]
            $e = $engine.GetType($pairs[$module], $true)
            $described = { param($t) [enum]::GetValues($t) | ForEach-Object { "$_=$([int]$_)" } }
            (& $described $m) -join ',' | Should -Be ((& $described $e) -join ',') -Because "$module mirrors $($pairs[$module])"
        }
    }
}
