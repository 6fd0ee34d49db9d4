# Every cmdlet has real help: a synopsis, a description, every parameter described, two examples.
BeforeDiscovery {
    Import-Module $env:EXOBACKUP_MODULE -Force
    $Cmdlets = @(Get-Command -Module ExoBackup | ForEach-Object { @{ Name = $_.Name } })
}
BeforeAll { Import-Module $env:EXOBACKUP_MODULE -Force }

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
    It 'has at least two examples, each with code and remarks' {
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        foreach ($e in $help.Examples.Example) {
            $e.Code | Should -Match $Name -Because 'an example shows the cmdlet in use'
            ($e.Remarks.Text -join '') | Should -Not -BeNullOrEmpty
        }
    }
}

Describe 'about_ExoBackup' {
    It 'is installed with the module' {
        (Get-Help about_ExoBackup | Out-String) | Should -Match 'codec key'
    }
}
