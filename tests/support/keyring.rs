//! A real Secret Service for a test: a shell script run under a private D-Bus session with an
//! unlocked GNOME Keyring, in a fresh `$HOME` (where the keyring's files go), with `$MAILCFG`
//! the binary. Nothing of the machine's own session is touched.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Runs `script` (sh) with `env`; the keyring and its files vanish with the session.
pub async fn with_keyring(bin: &str, home: &Path, script: &str, env: &[(&str, &str)]) -> Output {
    let mut c = tokio::process::Command::new("dbus-run-session");
    c.args([
        "--",
        "sh",
        "-c",
        &format!("echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1\n{script}"),
    ])
    .env("HOME", home)
    .env("MAILCFG", bin)
    .env_remove("MAILCFG_CLIENT_SECRET")
    .env_remove("MAILCFG_SERVICE_ACCOUNT_KEY")
    .env_remove("DBUS_SESSION_BUS_ADDRESS")
    .env_remove("BROWSER");
    for (k, v) in env {
        c.env(k, v);
    }
    tokio::time::timeout(Duration::from_mins(3), c.output())
        .await
        .expect("the keyring session did not finish in 3 min")
        .expect("dbus-run-session runs (tests/servers/install.sh installs it)")
}
