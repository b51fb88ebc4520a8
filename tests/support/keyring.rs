//! A real Secret Service for tests: a private D-Bus session with GNOME Keyring unlocked, around a
//! shell script. The keyring's files live in `home`, so a later session with the same home sees
//! the entries an earlier one stored.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Runs `script` (with `$MAILCFG` = `bin`, and `env`) under the keyring session; 2 minutes at most.
pub async fn with_keyring(home: &Path, bin: &str, script: &str, env: &[(&str, &str)]) -> Output {
    let mut c = tokio::process::Command::new("dbus-run-session");
    c.args([
        "--",
        "sh",
        "-c",
        &format!(
            "echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1\n{script}"
        ),
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
    tokio::time::timeout(Duration::from_mins(2), c.output())
        .await
        .expect("the keyring session ended within 2 minutes")
        .expect("dbus-run-session runs (tests/servers/install.sh installs it)")
}
