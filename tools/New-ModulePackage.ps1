<#
.SYNOPSIS
Packages a built module: a versioned folder (ExoBackup/<version>) and a .nupkg in a local
PSResourceGet repository folder, which Install-PSResource installs from.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDir,
    [Parameter(Mandatory)] [string] $OutDir
)
$ErrorActionPreference = 'Stop'
$version = (Import-PowerShellDataFile (Join-Path $ModuleDir 'ExoBackup.psd1')).ModuleVersion
Remove-Item -Recurse -Force $OutDir -ErrorAction Ignore
New-Item -ItemType Directory -Force "$OutDir/repository" | Out-Null
$folder = Join-Path $OutDir "ExoBackup/$version"
New-Item -ItemType Directory -Force (Split-Path $folder) | Out-Null
Copy-Item $ModuleDir $folder -Recurse
Get-ChildItem $folder -Recurse -Filter '*.pdb' | Remove-Item   # symbols are not shipped
$name = "ExoBackupBuild$PID"
Register-PSResourceRepository -Name $name -Uri (Resolve-Path "$OutDir/repository").ProviderPath -Trusted -Force
try { Publish-PSResource -Path $folder -Repository $name }
finally { Unregister-PSResourceRepository -Name $name }
[pscustomobject]@{ Folder = $folder; Package = (Get-ChildItem "$OutDir/repository" -Filter '*.nupkg' | Select-Object -First 1).FullName; Version = $version }
