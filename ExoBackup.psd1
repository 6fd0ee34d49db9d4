@{
    RootModule           = 'ExoBackup.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f0c6b8e-3f7e-4a59-9d3c-2a1f6c9e7b41'
    Author               = 'ExoBackup engineers'
    CompanyName          = 'ExoBackup'
    Copyright            = '(c) ExoBackup engineers. MIT licence.'
    Description          = 'Consistent backup and restore of an eXo Platform installation: data directory, configuration and codec key, SQL datasources and the eXo Chat MongoDB database.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('ExoBackup.format.ps1xml')
    CmdletsToExport      = @(
        'Get-ExoPlatform'
        'Start-ExoPlatform'
        'Stop-ExoPlatform'
        'Get-ExoDriver'
        'New-ExoSnapshot'
        'Backup-ExoDataDir'
        'Backup-ExoConfiguration'
        'Backup-ExoDatabase'
        'Backup-ExoChat'
        'Backup-ExoPlatform'
        'Complete-ExoSnapshot'
        'Get-ExoSnapshot'
        'Test-ExoSnapshot'
        'Restore-ExoSnapshot'
        'Remove-ExoSnapshot'
        'Register-ExoBackupSchedule'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('eXo', 'eXoPlatform', 'Backup', 'Restore', 'PostgreSQL', 'MySQL', 'MariaDB', 'SQLServer', 'MongoDB', 'PSEdition_Core', 'Linux', 'Windows')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
    }
}
