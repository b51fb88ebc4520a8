//! The connected account's form: provider, sign-in flow, tenant, client ID and the rest, with the
//! sign-in below it and, for Microsoft and Google, the set-up checklist.

use eframe::egui;

use super::{checklist, grid, header, setup, signin};
use crate::profile::{Account, Flow, Provider};
use crate::ui::action::{Action, Actions, Edit, Nav};
use crate::ui::fields::Form;
use crate::ui::view::Ctx;

const PROVIDERS: &[(Provider, &str)] = &[
    (Provider::Microsoft, "Microsoft 365 / Exchange Online"),
    (Provider::Google, "Google (Gmail)"),
    (Provider::Generic, "Other (OAuth2 endpoints)"),
];
const FLOWS: &[(Flow, &str)] = &[
    (Flow::AppOnly, "App-only (client credentials)"),
    (Flow::Delegated, "Delegated (browser sign-in)"),
    (Flow::DeviceCode, "Device code (no browser here)"),
];

pub fn show(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, i: usize) -> Actions {
    let profile = ctx.profile;
    let before = &profile.accounts[i];
    let mut out = header(ui, "Connected account", &before.name, Nav::Account(i));
    let mut a = before.clone();
    let mut form = Form {
        fields: &mut ctx.input.fields,
        findings: ctx.findings,
        sources: ctx.sources,
        prefix: format!("accounts[{i}]"),
        item: format!("account \"{}\"", before.name),
    };
    grid(ui, "account", |ui| fields(ui, &mut form, &mut a));
    if a != *before {
        out.push(Action::Edit(Edit::Account(i, a)));
    }
    if before.flow == Flow::AppOnly
        && let Some(e) =
            crate::monitor::client_secret(before, crate::monitor::Thresholds::default(), ctx.now)
    {
        ui.add_space(4.0);
        crate::ui::widgets::expiry(ui, "The client secret", &e);
    }
    ui.add_space(10.0);
    out.extend(signin::show(ui, ctx, i));
    out.extend(setup::show(ui, ctx, i));
    if before.provider != Provider::Generic {
        let items = ctx.runtime.checklist(profile, before, ctx.now);
        checklist::show(ui, &items, before.provider);
    }
    out
}

fn fields(ui: &mut egui::Ui, f: &mut Form<'_>, a: &mut Account) {
    f.text(ui, "name", "Name", &mut a.name, "e.g. Office365");
    f.choice(ui, "provider", "Provider", &mut a.provider, PROVIDERS);
    let flows = if a.provider == Provider::Google {
        super::google::FLOWS
    } else {
        FLOWS
    };
    f.choice(ui, "flow", "Sign-in", &mut a.flow, flows);
    if a.provider == Provider::Microsoft {
        f.opt(
            ui,
            "tenant",
            "Tenant",
            &mut a.tenant,
            "Directory (tenant) ID or domain, e.g. contoso.onmicrosoft.com",
        );
    }
    f.text(
        ui,
        "client_id",
        "Client ID",
        &mut a.client_id,
        "Application (client) ID, e.g. 1b2c3d4e-0000-4000-8000-123456789abc",
    );
    let mut scopes = a.scopes.join(" ");
    if f.text(ui, "scopes", "Scopes", &mut scopes, "space-separated") {
        a.scopes = scopes.split_whitespace().map(str::to_owned).collect();
    }
    if a.provider == Provider::Microsoft {
        f.opt(
            ui,
            "enterprise_object_id",
            "Enterprise object ID",
            &mut a.enterprise_object_id,
            "Enterprise application's Object ID (for the PowerShell steps)",
        );
        if a.flow == Flow::AppOnly {
            f.opt(
                ui,
                "client_secret_expires",
                "Secret expires",
                &mut a.client_secret_expires,
                "YYYY-MM-DD: a reminder 30 days before",
            );
        }
        f.opt(
            ui,
            "authority",
            "Authority",
            &mut a.authority,
            "https://login.microsoftonline.com (other clouds: change)",
        );
    }
    if a.provider == Provider::Generic {
        f.opt(
            ui,
            "issuer",
            "Issuer",
            &mut a.issuer,
            "reads .well-known/openid-configuration",
        );
        f.opt(
            ui,
            "authorize_url",
            "Authorize URL",
            &mut a.authorize_url,
            "",
        );
        f.opt(ui, "token_url", "Token URL", &mut a.token_url, "");
        f.opt(
            ui,
            "device_authorization_url",
            "Device URL",
            &mut a.device_authorization_url,
            "",
        );
    }
    if a.flow != Flow::AppOnly {
        f.opt(
            ui,
            "redirect_uri",
            "Redirect URI",
            &mut a.redirect_uri,
            "http://localhost (any port)",
        );
    }
}
