//! The files Dovecot reads, generated per start: dovecot.conf (every line from the verified
//! recipe in /work/shared/test-servers.md), oauth2.conf.ext (introspection by POST to the IdP), and
//! for `mailboxes_only` a passwd-file userdb.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::Command;

use anyhow::Result;

use super::{Ports, REMOTE, Settings};

/// The uid/gid mail processes run as, and the users Dovecot's own processes use. As root: nobody
/// (uid 0 is refused for mail) and the package's users. Otherwise: ourselves for everything.
pub(super) struct Identity {
    uid: u32,
    gid: u32,
    login_user: String,
    internal_user: String,
    internal_group: String,
}

pub(super) fn identity(dir: &Path) -> Result<Identity> {
    let meta = std::fs::metadata(dir)?;
    if meta.uid() == 0 {
        return Ok(Identity {
            uid: 65534,
            gid: 65534,
            login_user: "dovenull".into(),
            internal_user: "dovecot".into(),
            internal_group: "dovecot".into(),
        });
    }
    let id = |flag: &str| -> Result<String> {
        let out = Command::new("id").arg(flag).output()?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let (user, group) = (id("-un")?, id("-gn")?);
    Ok(Identity {
        uid: meta.uid(),
        gid: meta.gid(),
        login_user: user.clone(),
        internal_user: user,
        internal_group: group,
    })
}

// One literal configuration file: splitting it would hide the whole that Dovecot reads.
#[allow(clippy::too_many_lines)]
pub(super) fn config(s: &Settings, id: &Identity, ports: &Ports, instance: &str) -> String {
    let t = s.dir.display();
    let (cert, key) = (s.pki.cert.display(), s.pki.key.display());
    let userdb = if s.mailboxes_only.is_some() {
        format!("driver = passwd-file\n  args = {t}/users")
    } else if s.per_protocol {
        format!(
            "driver = static\n  args = uid={} gid={} home={t}/home/%s/%u",
            id.uid, id.gid
        )
    } else {
        format!(
            "driver = static\n  args = uid={} gid={} home={t}/home/%u",
            id.uid, id.gid
        )
    };
    let password = super::super::PLAIN_PASSWORD;
    // The passdbs: one for all protocols, or (per_protocol) one set per protocol, each oauth2
    // passdb with its own introspection address.
    let passdbs = |ext: &str, indent: &str| {
        format!(
            "{indent}passdb {{\n{indent}  driver = oauth2\n{indent}  mechanisms = xoauth2 oauthbearer\n{indent}  args = {t}/{ext}\n{indent}}}\n{indent}passdb {{\n{indent}  driver = static\n{indent}  mechanisms = plain\n{indent}  args = password={password}\n{indent}}}\n"
        )
    };
    let passdb = if s.per_protocol {
        // The auth process starts on the passdbs outside any protocol (PLAIN needs one there);
        // each protocol then looks up its own.
        let plain = format!(
            "passdb {{\n  driver = static\n  mechanisms = plain\n  args = password={password}\n}}\n"
        );
        let mut all = plain;
        for p in ["imap", "pop3", "submission"] {
            let _ = writeln!(
                all,
                "protocol {p} {{\n{}}}",
                passdbs(&format!("oauth2-{p}.conf.ext"), "  ")
            );
        }
        all
    } else {
        passdbs("oauth2.conf.ext", "")
    };
    let listener = |name: &str, addr: Option<Ipv4Addr>, port: u16, ssl: bool| {
        let mut b = format!("  inet_listener {name} {{\n    port = {port}\n");
        if let Some(a) = addr {
            let _ = writeln!(b, "    address = {a}");
        }
        if ssl {
            b.push_str("    ssl = yes\n");
        }
        b + "  }\n"
    };
    let service =
        |name: &str, l: [String; 3]| format!("service {name} {{\n  chroot =\n{}}}\n", l.concat());
    let p = ports;
    // Every line below is from the verified recipe; the reasons are in its "Pitfalls" section.
    format!(
        "instance_name = {instance}
base_dir = {t}/run
state_dir = {t}/state
log_path = {t}/dovecot.log
info_log_path = {t}/dovecot.log
debug_log_path = {t}/dovecot.log
protocols = imap pop3 submission
listen = 127.0.0.1
hostname = localhost
# Lets the harness tell its own Dovecot's greeting from another instance's on a reused port.
login_greeting = Dovecot ready ({instance}).
default_login_user = {login}
default_internal_user = {iuser}
default_internal_group = {igroup}
first_valid_uid = 1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
auth_mechanisms = {mechs}
disable_plaintext_auth = yes
auth_failure_delay = 0
auth_verbose = yes
auth_debug = no
auth_username_format = %Lu
{passdb}userdb {{
  {userdb}
}}
mail_location = maildir:~/Maildir
submission_relay_host = 127.0.0.1
submission_relay_port = {sink}
submission_relay_trusted = yes
{imap}{pop3}{submission}service anvil {{
  chroot =
  # Mode 0 turns off the per-IP auth penalty (2 s, 4 s, ... after each failed login).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-urlauth-login {{
  chroot =
}}
",
        login = id.login_user,
        iuser = id.internal_user,
        igroup = id.internal_group,
        mechs = s.auth_mechanisms,
        sink = s.sink_port,
        imap = service(
            "imap-login",
            [
                listener("imap", None, p.imap, false),
                listener("imaps", None, p.imaps, true),
                listener("imap_remote", Some(REMOTE), p.imap_remote, false)
            ]
        ),
        pop3 = service(
            "pop3-login",
            [
                listener("pop3", None, p.pop3, false),
                listener("pop3s", None, p.pop3s, true),
                listener("pop3_remote", Some(REMOTE), p.pop3_remote, false)
            ]
        ),
        submission = service(
            "submission-login",
            [
                listener("submission", None, p.submission, false),
                listener("submissions", None, p.submissions, true),
                listener(
                    "submission_remote",
                    Some(REMOTE),
                    p.submission_remote,
                    false
                ),
            ]
        ),
    )
}

/// Writes the files Dovecot reads, once per start (ports change between attempts).
pub(super) fn write_files(s: &Settings, id: &Identity) -> Result<()> {
    let t = s.dir;
    let ext = |url: &str| {
        format!(
            "introspection_mode = post\nintrospection_url = {url}\nusername_attribute = email\nactive_attribute = active\nactive_value = true\ntimeout_msecs = {}\n{}",
            s.introspection_timeout.as_millis(),
            if s.app_opens_domain {
                "username_format = %d\n"
            } else {
                ""
            }
        )
    };
    std::fs::write(t.join("oauth2.conf.ext"), ext(&s.introspect_url))?;
    for p in ["imap", "pop3", "submission"] {
        std::fs::write(
            t.join(format!("oauth2-{p}.conf.ext")),
            ext(&format!("{}/{p}", s.introspect_url)),
        )?;
    }
    if let Some(users) = &s.mailboxes_only {
        // passwd-file: user:password:uid:gid:gecos:home:shell:extra
        let lines = users.iter().fold(String::new(), |mut out, u| {
            let _ = writeln!(
                out,
                "{u}::{}:{}::{}/home/{u}::",
                id.uid,
                id.gid,
                t.display(),
                u = u.to_lowercase()
            );
            out
        });
        std::fs::write(t.join("users"), lines)?;
    }
    // Mail processes (uid `id.uid`) must reach T/home and create homes in it.
    std::fs::set_permissions(t, std::fs::Permissions::from_mode(0o755))?;
    let home = t.join("home");
    std::fs::create_dir_all(&home)?;
    std::os::unix::fs::chown(&home, Some(id.uid), Some(id.gid))?;
    if s.per_protocol {
        for p in ["imap", "pop3", "submission"] {
            let dir = home.join(p);
            std::fs::create_dir_all(&dir)?;
            std::os::unix::fs::chown(&dir, Some(id.uid), Some(id.gid))?;
        }
    }
    Ok(())
}
