# Every cmdlet has real help: a synopsis, a description, every parameter described, two examples.
BeforeDiscovery {
    Import-Module $env:EXOBACKUP_MODULE -Force
    $Cmdlets = @(Get-Command -Module ExoBackup | ForEach-Object { @{ Name = $_.Name } })
}
BeforeAll { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') }

Describe 'Help for <Name>' -ForEach $Cmdlets {
    BeforeAll {
        $help = Get-Help $Name -Full
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters
        $params = (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common }
    }
    It 'has a synopsis of its own, not the generated syntax' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "$Name *"
        $help.Synopsis.Length | Should -BeGreaterThan 20
    }
    It 'has a description' {
        ($help.Description.Text -join ' ').Length | Should -BeGreaterThan 40
    }
    It 'describes every parameter' {
        foreach ($p in $params) {
            $h = $help.Parameters.Parameter | Where-Object Name -eq $p
            $h | Should -Not -BeNullOrEmpty -Because "-$p needs help"
            ($h.Description.Text -join ' ').Length | Should -BeGreaterThan 10 -Because "-$p needs a description"
        }
    }
    It 'gives every parameter its default value, as the cmdlet holds it' {
        $instance = [Activator]::CreateInstance((Get-Command $Name).ImplementingType)
        foreach ($p in $params) {
            $h = $help.Parameters.Parameter | Where-Object Name -eq $p
            $h.defaultValue | Should -Not -BeNullOrEmpty -Because "-$p needs its default in help"
            $property = $instance.GetType().GetProperty($p)
            $v = if ($property) { $property.GetValue($instance) }
            if ($v -is [int] -or ($v -is [enum])) { $h.defaultValue | Should -Be "$v" -Because "-$p defaults to $v" }
        }
    }
    It 'has at least two examples, each with code and remarks' {
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        foreach ($e in $help.Examples.Example) {
            $e.Code | Should -Match $Name -Because 'an example shows the cmdlet in use'
            ($e.Remarks.Text -join '') | Should -Not -BeNullOrEmpty
        }
    }
}

Describe 'about_ExoBackup' {
    It 'is installed with the module and explains snapshots, chains, consistency and restore by hand' {
        $text = Get-Help about_ExoBackup | Out-String
        foreach ($topic in 'SNAPSHOTS', 'CHAINS', 'CONSISTENCY', 'RESTORE BY HAND', 'codec key', 'sha256sum -c') {
            $text | Should -Match ([regex]::Escape($topic))
        }
    }
    It 'has help for every exported cmdlet, and every cmdlet is exported' {
        $exported = (Get-Module ExoBackup).ExportedCmdlets.Keys | Sort-Object
        $docs = Get-ChildItem (Join-Path $env:EXOBACKUP_TESTS '../docs/en-US') -Filter '*-*.md' | ForEach-Object BaseName | Sort-Object
        $docs | Should -Be $exported
    }
}
