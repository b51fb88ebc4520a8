//! A real Secret Service for tests: a private D-Bus session with GNOME Keyring unlocked, around a
//! shell script. The keyring's files live in `home`, so a later session with the same home sees
//! the entries an earlier one stored.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// The unlocked daemon takes the bus name org.freedesktop.secrets a moment after
/// `gnome-keyring-daemon --unlock` returns. A request before that makes D-Bus start a second
/// daemon, whose keyring is locked: it asks for the password in a window, which a test session
/// has not, and the write fails ("prompt dismissed"), more often the busier the machine. So the
/// script starts once the name has its owner (5 s at most; dbus-send comes with dbus-daemon).
const WAIT_FOR_THE_KEYRING: &str = "for _ in $(seq 100); do \
     dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
     org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
     | grep -q 'boolean true' && break; sleep 0.05; done";

/// Runs `script` (with `$MAILCFG` = `bin`, and `env`) under the keyring session; 2 minutes at most.
pub async fn with_keyring(home: &Path, bin: &str, script: &str, env: &[(&str, &str)]) -> Output {
    let mut c = tokio::process::Command::new("dbus-run-session");
    c.args([
        "--",
        "sh",
        "-c",
        &format!(
            "echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1\n{WAIT_FOR_THE_KEYRING}\n{script}"
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
