//! Opens the system browser with the `webbrowser` crate, which honours `$BROWSER` (the `open`
//! crate does not). Run off the async threads: some launchers wait for the browser to exit.

use std::time::Duration;

/// Opens `url`; `Err` says why not, so the caller shows the address to open by hand.
pub async fn open(url: &str) -> Result<(), String> {
    let url = url.to_owned();
    let job = tokio::task::spawn_blocking(move || webbrowser::open(&url));
    match tokio::time::timeout(Duration::from_secs(5), job).await {
        // Still running after 5 s: a launcher that waits for its browser; it did start.
        Ok(Ok(Ok(()))) | Err(_) => Ok(()),
        Ok(Ok(Err(e))) => Err(format!("no browser could be opened ({e})")),
        Ok(Err(e)) => Err(format!("the browser launcher failed ({e})")),
    }
}
