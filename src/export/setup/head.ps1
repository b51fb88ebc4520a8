# mailcfg: the Entra ID and Exchange Online set-up of one mail account, written by mailcfg.
# Paste it whole into Azure Cloud Shell (PowerShell) at https://shell.azure.com, where the
# Microsoft.Graph and ExchangeOnlineManagement modules are ready, or run it in PowerShell 7 with
# both modules installed. Sign in as an administrator when asked.
# Each step checks first and says "already done" or "done"; the script stops at the first step
# that fails and names it. Running it again is safe.
# Its last line runs it. Ending with "Invoke-MailcfgSetup -WhatIf" instead previews what it
# would change and changes nothing; then type "Invoke-MailcfgSetup" to run it for real.
# It ends with one JSON object between the lines
#   -----BEGIN MAILCFG SETUP RESULT-----   and   -----END MAILCFG SETUP RESULT-----
# Copy those lines into mailcfg ("Paste the result", or `mailcfg setup-result`). They hold the
# new client secret's Value, which Entra ID shows only once. This script holds no secret.

function Invoke-MailcfgSetup {
    [CmdletBinding(SupportsShouldProcess)]
    param()
    $ErrorActionPreference = 'Stop'
    $cmdlet = $PSCmdlet
    # State shared by the steps: a hashtable, since each step's blocks run in a scope of their own.
    $ctx = @{
        Number        = 0
        Skipped       = $false
        Done          = [System.Collections.Generic.List[object]]::new()
        AlreadyDone   = [System.Collections.Generic.List[object]]::new()
        Failed        = $null
        App           = $null
        Sp            = $null
        Exchange      = $null
        Graph         = $null
        TenantId      = $null
        Secret        = $null
        SecretExpires = $null
    }
    $appId = $null
    $objectId = $null

    # One step: check, then change only what is missing (asking ShouldProcess, so -WhatIf
    # previews), and stop the script at the first failure with the step's name.
    function Step {
        param(
            [Parameter(Mandatory)] [string] $Title,
            [string] $Target = '',
            [System.Collections.IDictionary] $Report = $null,
            [scriptblock] $Check = $null,
            [Parameter(Mandatory)] [scriptblock] $Apply,
            [switch] $ReadOnly
        )
        $ctx.Number++
        $label = '{0}. {1}' -f $ctx.Number, $Title
        if ($Target) { $label = '{0}: {1}' -f $label, $Target }
        try {
            if ($ReadOnly) {
                # Signing in and reading change nothing: they run under -WhatIf too.
                $WhatIfPreference = $false
                & $Apply
                Write-Host ('{0} ... done' -f $label)
                return
            }
            if ($ctx.Skipped) {
                Write-Host ('{0} ... would follow the steps above' -f $label)
                return
            }
            if (& $Check) {
                Write-Host ('{0} ... already done' -f $label)
                if ($Report) { $ctx.AlreadyDone.Add($Report) }
            } elseif ($cmdlet.ShouldProcess($label, 'Set up')) {
                & $Apply
                Write-Host ('{0} ... done' -f $label)
                if ($Report) { $ctx.Done.Add($Report) }
            } else {
                $ctx.Skipped = $true
            }
        } catch {
            $ctx.Failed = $label
            throw ('mailcfg set-up stopped at step {0}: {1}' -f $label, $_.Exception.Message)
        }
    }

    # Entra ID and Exchange Online take a moment to see an object made a moment ago.
    function Invoke-Retrying([scriptblock] $Action) {
        for ($try = 1; ; $try++) {
            try { return (& $Action) } catch {
                if ($try -ge 6) { throw }
                Write-Host ('    not visible yet, trying again in 10 s ({0} of 5)' -f $try)
                Start-Sleep -Seconds 10
            }
        }
    }

    # An OData string literal for -Filter: quoted, its quotes doubled.
    function ConvertTo-ODataString([string] $Text) {
        "'" + $Text.Replace("'", "''") + "'"
    }

    function Get-Permission($Resource, [string] $Value, [string] $Type) {
        if ($Type -eq 'Role') {
            $Resource.AppRoles | Where-Object { $_.Value -eq $Value -and $_.AllowedMemberTypes -contains 'Application' } | Select-Object -First 1
        } else {
            $Resource.Oauth2PermissionScopes | Where-Object { $_.Value -eq $Value } | Select-Object -First 1
        }
    }

    # The app's requiredResourceAccess for what this account needs, IDs read from the resources;
    # one object per resource (callers collect them with @()).
    function Get-RequiredAccess {
        $exchange = @{ ResourceAppId = [string]$ctx.Exchange.AppId; ResourceAccess = @() }
        foreach ($value in $roles) {
            $exchange.ResourceAccess += @{ Id = [string](Get-Permission $ctx.Exchange $value 'Role').Id; Type = 'Role' }
        }
        foreach ($value in $scopes) {
            $exchange.ResourceAccess += @{ Id = [string](Get-Permission $ctx.Exchange $value 'Scope').Id; Type = 'Scope' }
        }
        $access = @($exchange)
        if ($graphScopes.Count -gt 0) {
            $graph = @{ ResourceAppId = [string]$ctx.Graph.AppId; ResourceAccess = @() }
            foreach ($value in $graphScopes) {
                $graph.ResourceAccess += @{ Id = [string](Get-Permission $ctx.Graph $value 'Scope').Id; Type = 'Scope' }
            }
            $access += $graph
        }
        $access
    }

    function Test-RequiredAccess {
        foreach ($want in (Get-RequiredAccess)) {
            $have = @($ctx.App.RequiredResourceAccess | Where-Object { $_.ResourceAppId -eq $want.ResourceAppId } |
                ForEach-Object { $_.ResourceAccess } | ForEach-Object { [string]$_.Id })
            foreach ($access in $want.ResourceAccess) {
                if ($have -notcontains $access.Id) { return $false }
            }
        }
        $true
    }

    # The app's permissions as they are, plus what is missing: nothing is taken away.
    function Join-RequiredAccess {
        $byResource = [ordered]@{}
        foreach ($entry in @(@($ctx.App.RequiredResourceAccess) + @(Get-RequiredAccess))) {
            if (-not $entry) { continue }
            $key = [string]$entry.ResourceAppId
            if (-not $byResource.Contains($key)) {
                $byResource[$key] = @{ ResourceAppId = $key; ResourceAccess = @() }
            }
            foreach ($access in @($entry.ResourceAccess)) {
                $known = $byResource[$key].ResourceAccess | Where-Object { $_.Id -eq [string]$access.Id -and $_.Type -eq [string]$access.Type }
                if (-not $known) {
                    $byResource[$key].ResourceAccess += @{ Id = [string]$access.Id; Type = [string]$access.Type }
                }
            }
        }
        $byResource.Values
    }

    # The application permissions not yet assigned to the Enterprise application.
    function Get-MissingRole {
        $assigned = @(Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $ctx.Sp.Id -All |
            Where-Object { $_.ResourceId -eq $ctx.Exchange.Id } | ForEach-Object { [string]$_.AppRoleId })
        foreach ($value in $roles) {
            $role = Get-Permission $ctx.Exchange $value 'Role'
            if ($assigned -notcontains [string]$role.Id) { $role }
        }
    }

    # The tenant-wide ("AllPrincipals") consent of the app to a resource's delegated scopes.
    function Get-Grant($Resource) {
        $filter = "clientId eq '{0}' and consentType eq 'AllPrincipals' and resourceId eq '{1}'" -f $ctx.Sp.Id, $Resource.Id
        Get-MgOauth2PermissionGrant -Filter $filter -All | Select-Object -First 1
    }

    function Test-Grant($Resource, [string[]] $Wanted) {
        if ($Wanted.Count -eq 0) { return $true }
        $grant = Get-Grant $Resource
        if (-not $grant) { return $false }
        $have = -split [string]$grant.Scope
        foreach ($scope in $Wanted) {
            if ($have -notcontains $scope) { return $false }
        }
        $true
    }

    function Set-Grant($Resource, [string[]] $Wanted) {
        if ($Wanted.Count -eq 0) { return }
        $grant = Get-Grant $Resource
        if ($grant) {
            $all = @(-split [string]$grant.Scope) + $Wanted | Select-Object -Unique
            Update-MgOauth2PermissionGrant -OAuth2PermissionGrantId $grant.Id -Scope ($all -join ' ')
        } else {
            New-MgOauth2PermissionGrant -ClientId $ctx.Sp.Id -ConsentType 'AllPrincipals' -ResourceId $Resource.Id -Scope ($Wanted -join ' ') | Out-Null
        }
    }

    function Write-Result {
        $result = [ordered]@{
            mailcfg_setup         = 1
            account               = $settings.Account
            tenant                = $settings.Tenant
            tenant_id             = $ctx.TenantId
            client_id             = $appId
            enterprise_object_id  = $objectId
            client_secret         = $ctx.Secret
            client_secret_expires = $ctx.SecretExpires
            steps_done            = $ctx.Done.ToArray()
            steps_already_done    = $ctx.AlreadyDone.ToArray()
            failed_step           = $ctx.Failed
            what_if               = [bool]$WhatIfPreference
        }
        Write-Host ''
        Write-Host '-----BEGIN MAILCFG SETUP RESULT-----'
        Write-Host ($result | ConvertTo-Json -Depth 5)
        Write-Host '-----END MAILCFG SETUP RESULT-----'
        if ($ctx.Secret) {
            Write-Host 'Copy the lines above into mailcfg now: they hold the client secret''s Value, shown only this once.'
        }
    }

