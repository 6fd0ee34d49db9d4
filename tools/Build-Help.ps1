<#
.SYNOPSIS
Builds the module's MAML help (en-US/ExoBackup.dll-Help.xml) from docs/en-US/<Cmdlet>.md.

.DESCRIPTION
platyPS is not obtainable here, so this reads the same markdown layout platyPS writes
(## SYNOPSIS, ## DESCRIPTION, ## EXAMPLES with ### titles and fenced code, ## PARAMETERS with
### -Name, ## INPUTS, ## OUTPUTS, ## NOTES, ## RELATED LINKS) and takes the syntax, types,
positions and pipeline input from the built cmdlets themselves, so they can never disagree.
Runs in its own pwsh: it imports the freshly built module.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDir,
    [Parameter(Mandatory)] [string] $DocsDir
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path (Resolve-Path $ModuleDir) 'ExoBackup.psd1') -Force
$module = Get-Module ExoBackup
$common = [System.Management.Automation.PSCmdlet]::CommonParameters

function Get-DefaultText($Cmdlet, [string] $Name) {
    <# A parameter's default as an instance of the cmdlet holds it before binding: the help can never disagree with the code. #>
    $property = $Cmdlet.GetType().GetProperty($Name)
    if (-not $property) { return 'False' } # -WhatIf and -Confirm, switches of PowerShell's own
    $v = $property.GetValue($Cmdlet)
    if ($null -eq $v) { 'None' }
    elseif ($v -is [System.Management.Automation.SwitchParameter]) { if ($v.IsPresent) { 'True' } else { 'False' } }
    elseif ($v -is [System.Collections.ICollection]) { if ($v.Count) { @($v) -join ', ' } else { 'None' } }
    elseif ($v -is [string] -and $v -eq '') { 'None' }
    else { "$v" }
}

function Read-HelpMarkdown([string] $File) {
    $doc = @{ Sections = [ordered]@{}; Examples = @(); Parameters = [ordered]@{}; Inputs = @(); Outputs = @() }
    $lines = Get-Content -LiteralPath $File
    $section = $null; $sub = $null; $buffer = [System.Collections.Generic.List[string]]::new(); $inFence = $false
    $flush = {
        $text = ($buffer -join "`n").Trim()
        if ($section -eq 'EXAMPLES' -and $sub) {
            $m = [regex]::Match($text, '(?s)```[a-z]*\n(.*?)\n```\s*(.*)')
            if (-not $m.Success) { throw "${File}: example '$sub' has no fenced code block" }
            $doc.Examples += @{ Title = $sub; Code = $m.Groups[1].Value.Trim(); Remarks = $m.Groups[2].Value.Trim() }
        } elseif ($section -eq 'PARAMETERS' -and $sub) {
            $doc.Parameters[$sub.TrimStart('-')] = ($text -replace '(?s)```yaml.*?```', '').Trim()
        } elseif ($section -in 'INPUTS', 'OUTPUTS' -and $sub) {
            $doc[$section.Substring(0, 1) + $section.Substring(1).ToLower()] += @{ Type = $sub; Text = $text }
        } elseif ($section -and -not $sub) {
            $doc.Sections[$section] = $text
        }
        $buffer.Clear()
    }
    foreach ($line in $lines) {
        if ($line -match '^```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^## (.+)$') { & $flush; $section = $Matches[1].Trim().ToUpper(); $sub = $null; continue }
        if (-not $inFence -and $line -match '^### (.+)$') { & $flush; $sub = $Matches[1].Trim(); continue }
        if ($section) { $buffer.Add($line) }
    }
    & $flush
    $doc
}

function Add-Paras($xml, $parent, [string] $text) {
    foreach ($para in ($text -split "\n\s*\n")) {
        $p = $xml.CreateElement('maml', 'para', 'http://schemas.microsoft.com/maml/2004/10')
        $p.InnerText = ($para -replace '\s*\n\s*', ' ').Trim()
        [void] $parent.AppendChild($p)
    }
}

$ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}
$xml = [System.Xml.XmlDocument]::new()
$root = $xml.CreateElement('helpItems', 'http://msh'); $root.SetAttribute('schema', 'maml')
[void] $xml.AppendChild($xml.CreateXmlDeclaration('1.0', 'utf-8', $null)); [void] $xml.AppendChild($root)
function El([string] $prefix, [string] $name, $parent, [string] $text) {
    $e = $xml.CreateElement($prefix, $name, $ns[$prefix])
    if ($null -ne $text) { $e.InnerText = $text }
    if ($parent) { [void] $parent.AppendChild($e) }
    $e
}

$missing = @()
foreach ($cmd in Get-Command -Module ExoBackup -CommandType Cmdlet | Sort-Object Name) {
    $file = Join-Path $DocsDir "$($cmd.Name).md"
    if (-not (Test-Path $file)) { $missing += $cmd.Name; continue }
    $doc = Read-HelpMarkdown $file
    $c = El command command $root $null
    $details = El command details $c $null
    [void] (El command name $details $cmd.Name)
    [void] (El command verb $details $cmd.Verb)
    [void] (El command noun $details $cmd.Noun)
    $syn = El maml description $details $null; Add-Paras $xml $syn $doc.Sections['SYNOPSIS']
    $desc = El maml description $c $null; Add-Paras $xml $desc $doc.Sections['DESCRIPTION']

    $paramInfo = @{}
    $syntax = El command syntax $c $null
    foreach ($set in $cmd.ParameterSets) {
        $item = El command syntaxItem $syntax $null
        [void] (El maml name $item $cmd.Name)
        foreach ($p in $set.Parameters | Where-Object Name -notin $common) {
            $paramInfo[$p.Name] = $p
            $pe = El command parameter $item $null
            $pe.SetAttribute('required', $p.IsMandatory.ToString().ToLower())
            $pe.SetAttribute('position', $(if ($p.Position -ge 0) { "$($p.Position)" } else { 'named' }))
            [void] (El maml name $pe $p.Name)
            if ($p.ParameterType -ne [switch]) {
                $pv = El command parameterValue $pe $p.ParameterType.Name; $pv.SetAttribute('required', 'true')
            }
        }
    }
    $params = El command parameters $c $null
    $instance = [Activator]::CreateInstance($cmd.ImplementingType)
    foreach ($name in $paramInfo.Keys | Sort-Object) {
        $p = $paramInfo[$name]
        $pe = El command parameter $params $null
        $pe.SetAttribute('required', $p.IsMandatory.ToString().ToLower())
        $pe.SetAttribute('position', $(if ($p.Position -ge 0) { "$($p.Position)" } else { 'named' }))
        $pipe = @(if ($p.ValueFromPipeline) { 'ByValue' }; if ($p.ValueFromPipelineByPropertyName) { 'ByPropertyName' })
        $pe.SetAttribute('pipelineInput', $(if ($pipe) { "True ($($pipe -join ', '))" } else { 'False' }))
        $pe.SetAttribute('aliases', $(if ($p.Aliases.Count) { $p.Aliases -join ', ' } else { 'none' }))
        [void] (El maml name $pe $name)
        $text = $doc.Parameters[$name]
        if (-not $text) { throw "$file documents no parameter -$name" }
        $d = El maml description $pe $null; Add-Paras $xml $d $text
        if ($p.ParameterType -ne [switch]) { $pv = El command parameterValue $pe $p.ParameterType.Name; $pv.SetAttribute('required', 'true') }
        $t = El dev type $pe $null; [void] (El maml name $t $p.ParameterType.FullName)
        [void] (El dev defaultValue $pe (Get-DefaultText $instance $name))
    }
    foreach ($extra in $doc.Parameters.Keys | Where-Object { -not $paramInfo.ContainsKey($_) }) {
        throw "$file documents -$extra, which $($cmd.Name) does not have"
    }
    $inputs = El command inputTypes $c $null
    foreach ($i in $doc.Inputs) { $it = El command inputType $inputs $null; $t = El dev type $it $null; [void] (El maml name $t $i.Type); $d = El maml description $it $null; Add-Paras $xml $d $i.Text }
    $outputs = El command returnValues $c $null
    foreach ($o in $doc.Outputs) { $rv = El command returnValue $outputs $null; $t = El dev type $rv $null; [void] (El maml name $t $o.Type); $d = El maml description $rv $null; Add-Paras $xml $d $o.Text }
    if ($doc.Sections['NOTES']) { $as = El maml alertSet $c $null; $al = El maml alert $as $null; Add-Paras $xml $al $doc.Sections['NOTES'] }
    $examples = El command examples $c $null
    $n = 0
    foreach ($ex in $doc.Examples) {
        $n++
        $e = El command example $examples $null
        [void] (El maml title $e "-------------------------- $($ex.Title) --------------------------")
        [void] (El dev code $e $ex.Code)
        $r = El dev remarks $e $null; Add-Paras $xml $r $ex.Remarks
    }
    $links = El command relatedLinks $c $null
    foreach ($l in ($doc.Sections['RELATED LINKS'] -split "\n" | Where-Object { $_ -match '\S' })) {
        $nl = El maml navigationLink $links $null
        [void] (El maml linkText $nl ($l -replace '^\s*[-*]\s*', '' -replace '\[(.+?)\]\(.*?\)', '$1').Trim())
        [void] (El maml uri $nl '')
    }
}
if ($missing) { throw "No help source in $DocsDir for: $($missing -join ', ')" }
$outDir = Join-Path $ModuleDir 'en-US'
New-Item -ItemType Directory -Force $outDir | Out-Null
$xml.Save((Join-Path $outDir 'ExoBackup.dll-Help.xml'))
Get-ChildItem $DocsDir -Filter 'about_*.help.txt' | Copy-Item -Destination $outDir
