# One name for one concept in every exported cmdlet: the same name, element type, aliases and
# pipeline binding wherever the concept appears, and none of its synonyms under another name.
BeforeDiscovery {
    Import-Module $env:EXOBACKUP_MODULE -Force
    $Common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
    $Concepts = @(
        @{ Concept = 'bundle'; Name = 'Platform'; Element = 'System.String'; Aliases = @('Home'); Synonyms = @('Bundle', 'PlatformPath', 'PlatformHome', 'ExoHome') }
        @{ Concept = 'repository'; Name = 'Repository'; Element = 'System.String'; Aliases = @(); ByPropertyName = $true; Synonyms = @('Repo', 'RepositoryPath', 'BackupPath', 'Destination') }
        @{ Concept = 'snapshot id'; Name = 'Id'; Element = 'System.String'; Aliases = @('SnapshotId'); ByPropertyName = $true; Synonyms = @('Snapshots', 'SnapshotName') }
        @{ Concept = 'credential'; Name = 'Credential'; Element = 'System.Management.Automation.PSCredential'; Aliases = @(); Synonyms = @('Cred', 'SqlCredential', 'DatabaseCredential') }
        @{ Concept = 'component'; Name = 'Component'; Element = 'ExoBackup.SnapshotComponent'; Aliases = @(); Synonyms = @('Components', 'Part', 'Parts') }
        @{ Concept = 'tool path'; Name = 'ToolPath'; Element = 'System.String'; Aliases = @(); Synonyms = @('Tool', 'Tools', 'ToolsPath', 'BinPath') }
        @{ Concept = 'chat method'; Name = 'ChatMethod'; Element = 'ExoBackup.ChatBackupMethod'; Aliases = @(); Synonyms = @('Method', 'MongoMethod') }
        # A path on the database server (SQL Server writes and reads there), never a local one.
        @{ Concept = 'server-side backup folder'; Name = 'ServerBackupPath'; Element = 'System.String'; Aliases = @(); Synonyms = @('ServerPath', 'BackupDirectory') }
        @{ Concept = 'server-side data folder'; Name = 'ServerDataPath'; Element = 'System.String'; Aliases = @(); Synonyms = @('DataFilePath', 'DataPath') }
        # A file filter is -Include: -Path reads as the backup's location to a dbatools user.
        @{ Concept = 'file filter'; Name = 'Include'; Element = 'System.String'; Aliases = @(); Synonyms = @('Path', 'Filter', 'Files') }
    )
    $Uses = foreach ($c in Get-Command -Module ExoBackup -CommandType Cmdlet) {
        foreach ($p in $c.Parameters.Values) {
            if ($p.Name -in $Common) { continue }
            $attrs = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
            $type = $p.ParameterType
            @{
                Cmdlet = $c.Name; Name = $p.Name; Aliases = @($p.Aliases)
                Element = $(if ($type.IsArray) { $type.GetElementType().FullName } else { $type.FullName })
                ByValue = [bool]($attrs.ValueFromPipeline -contains $true)
                ByPropertyName = [bool]($attrs.ValueFromPipelineByPropertyName -contains $true)
            }
        }
    }
    $ConceptUses = foreach ($concept in $Concepts) {
        foreach ($u in $Uses | Where-Object { $_.Name -eq $concept.Name }) { @{ Concept = $concept; Use = $u; Cmdlet = $u.Cmdlet; Label = $concept.Concept } }
    }
    $Cmdlets = @(Get-Command -Module ExoBackup -CommandType Cmdlet | ForEach-Object Name)
}

Describe 'One name for one concept' {
    It 'every cmdlet that takes a bundle takes it as -Platform (<_>)' -ForEach @('Get-ExoPlatform', 'Start-ExoPlatform', 'Stop-ExoPlatform', 'Backup-ExoPlatform', 'New-ExoSnapshot', 'Restore-ExoSnapshot', 'Test-ExoSnapshot', 'Backup-ExoDataDir', 'Backup-ExoConfiguration', 'Backup-ExoDatabase', 'Backup-ExoChat') {
        (Get-Command $_).Parameters.Keys | Should -Contain 'Platform'
    }

    It '<Cmdlet> -<Label>: name, element type, aliases and binding' -ForEach $ConceptUses {
        $Use.Element | Should -Be $Concept.Element
        foreach ($a in $Concept.Aliases) { $Use.Aliases | Should -Contain $a }
        if ($Concept.ContainsKey('ByPropertyName')) { $Use.ByPropertyName | Should -Be $Concept.ByPropertyName }
    }

    It '<_> uses no synonym of a concept as a parameter of its own' -ForEach $Cmdlets {
        $cmd = Get-Command $_
        foreach ($concept in $Concepts) {
            foreach ($p in $cmd.Parameters.Values) {
                if ($p.Name -eq $concept.Name) { continue }
                $p.Name | Should -Not -BeIn $concept.Synonyms -Because "the $($concept.Concept) is -$($concept.Name) everywhere"
                foreach ($a in $concept.Aliases) { $p.Aliases | Should -Not -Contain $a -Because "-$a belongs to -$($concept.Name)" }
            }
        }
    }

    It '<_>: the bundle comes from the pipeline only where the bundle is the input, never from a piped snapshot' -ForEach $Cmdlets {
        $mine = @($Uses | Where-Object Cmdlet -eq $_)
        $platform = $mine | Where-Object Name -eq 'Platform'
        if (-not $platform) { return }
        $takesSnapshot = [bool]($mine | Where-Object { $_.Element -eq 'ExoBackup.Snapshot' -and $_.ByValue })
        # A snapshot's recorded home must never pick the bundle a restore writes to.
        $platform.ByValue | Should -Be (-not $takesSnapshot)
        $platform.ByPropertyName | Should -Be (-not $takesSnapshot)
    }

    It 'a parameter name has one element type in every cmdlet' {
        $clashes = $Uses | Group-Object { $_.Name } | Where-Object { @($_.Group.Element | Select-Object -Unique).Count -gt 1 } |
            ForEach-Object { "$($_.Name): $(($_.Group | ForEach-Object { "$($_.Cmdlet) $($_.Element)" }) -join '; ')" }
        $clashes | Should -BeNullOrEmpty
    }
}

Describe 'The -Platform rename keeps what worked' {
    BeforeAll {
        . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'names'
        $Sample = New-Bundle 'exo' -FileCount 3
    }
    AfterAll { Remove-Item -Recurse -Force $Root -ErrorAction Ignore }

    It 'binds -Platform, the -Path alias, a position and a piped platform alike' {
        (Get-ExoPlatform -Platform $Sample.Home).Home | Should -Be $Sample.Home
        (Get-ExoPlatform -Path $Sample.Home).Home | Should -Be $Sample.Home
        (Get-ExoPlatform $Sample.Home).Home | Should -Be $Sample.Home
        (Get-ExoPlatform $Sample.Home | Get-ExoPlatform).Home | Should -Be $Sample.Home
        (Get-Item $Sample.Home | Get-ExoPlatform).Home | Should -Be $Sample.Home
    }

    It 'Start-ExoPlatform -Platform and Stop-ExoPlatform -Platform bind (-WhatIf)' {
        { Start-ExoPlatform -Platform $Sample.Home -WhatIf } | Should -Not -Throw
        { Stop-ExoPlatform -Platform $Sample.Home -WhatIf } | Should -Not -Throw
    }
}
