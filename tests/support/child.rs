//! Runs the `mailcfg` binary as a child for fault tests: bounded in time (its process group is
//! killed at the limit), its peak resident memory measured (GNU time's maximum RSS where
//! `/usr/bin/time` exists, else VmHWM from `/proc/PID/status` polled while it runs), stdout
//! captured, sent to `/dev/full`, or a pipe already closed, and SIGINT on request.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the child's standard output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdout {
    Capture,
    /// `/dev/full`: every write fails with ENOSPC.
    Full,
    /// A pipe whose reading end is closed before the child writes (`| head -0`): EPIPE.
    Closed,
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// `None`: killed at the time limit (or by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The highest VmHWM seen, in KiB.
    pub peak_rss_kib: u64,
    pub elapsed: Duration,
    /// Killed because it ran past the limit.
    pub timed_out: bool,
}

impl Outcome {
    /// stdout and stderr together, for assertions that nothing leaks anywhere.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// GNU time, which reports the maximum resident set of the command it ran (`%M`, KiB).
const GNU_TIME: &str = "/usr/bin/time";

/// One run of the binary at `bin`.
pub struct Mailcfg {
    cmd: Command,
    /// Where GNU time writes the peak RSS, when it wraps the binary.
    rss_file: Option<tempfile::NamedTempFile>,
    limit: Duration,
    stdout: Stdout,
    stdin: Option<Vec<u8>>,
    interrupt_after: Option<Duration>,
}

impl Mailcfg {
    pub fn new(bin: &Path, args: &[&str]) -> Self {
        let rss_file = Path::new(GNU_TIME)
            .exists()
            .then(|| tempfile::NamedTempFile::new().unwrap());
        let mut cmd = match &rss_file {
            Some(f) => {
                let mut c = Command::new(GNU_TIME);
                c.args(["-f", "%M", "-o"]).arg(f.path()).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        // Its own process group: signals and the kill at the limit reach the binary under time.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.args(args)
            // No real keyring, browser or inherited secret: each test says what it wants.
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("MAILCFG_CLIENT_SECRET")
            .env("BROWSER", "/bin/false");
        Self {
            cmd,
            rss_file,
            limit: Duration::from_mins(1),
            stdout: Stdout::Capture,
            stdin: None,
            interrupt_after: None,
        }
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.cmd.env(k, v);
        self
    }

    pub fn current_dir(mut self, d: &Path) -> Self {
        self.cmd.current_dir(d);
        self
    }

    pub fn limit(mut self, d: Duration) -> Self {
        self.limit = d;
        self
    }

    pub fn stdout(mut self, s: Stdout) -> Self {
        self.stdout = s;
        self
    }

    pub fn stdin(mut self, bytes: &[u8]) -> Self {
        self.stdin = Some(bytes.to_vec());
        self
    }

    /// Sends SIGINT (Ctrl+C) this long after the start.
    pub fn interrupt_after(mut self, d: Duration) -> Self {
        self.interrupt_after = Some(d);
        self
    }

    /// Runs it to the end or the limit. Blocking: call it from `spawn_blocking` in async tests.
    pub fn run(mut self) -> Outcome {
        self.cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::piped());
        match self.stdout {
            Stdout::Capture => self.cmd.stdout(Stdio::piped()),
            Stdout::Closed => {
                // The reading end is gone before the child starts: its first write gets EPIPE.
                let (reader, writer) = std::io::pipe().unwrap();
                drop(reader);
                self.cmd.stdout(writer)
            }
            Stdout::Full => self.cmd.stdout(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            ),
        };
        let started = Instant::now();
        let mut child = self.cmd.spawn().unwrap();
        if let Some(bytes) = self.stdin.take() {
            let mut i = child.stdin.take().unwrap();
            let _ = i.write_all(&bytes);
        }
        let out_reader = child.stdout.take().map(reader);
        let err_reader = child.stderr.take().map(reader);
        let (code, polled, timed_out) =
            watch(&mut child, started, self.limit, self.interrupt_after);
        let elapsed = started.elapsed();
        let reported = self
            .rss_file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f.path()).ok())
            .and_then(|t| t.lines().rev().find_map(|l| l.trim().parse::<u64>().ok()))
            .unwrap_or(0);
        let peak = polled.max(reported);
        let stdout = out_reader.map(|h| h.join().unwrap()).unwrap_or_default();
        let stderr = err_reader.map(|h| h.join().unwrap()).unwrap_or_default();
        Outcome {
            code,
            stdout,
            stderr,
            peak_rss_kib: peak,
            elapsed,
            timed_out,
        }
    }
}

fn reader(mut r: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        // Bounded: a runaway child cannot fill the test's memory either.
        let mut buf = Vec::new();
        let _ = (&mut r).take(64 * 1024 * 1024).read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Waits for the child, polling its peak memory; kills it at the limit.
fn watch(
    child: &mut Child,
    started: Instant,
    limit: Duration,
    interrupt: Option<Duration>,
) -> (Option<i32>, u64, bool) {
    let mut peak = 0;
    let mut interrupted = false;
    let group = format!("-{}", child.id());
    loop {
        // The binary itself, or the child of GNU time.
        let pid = first_child(child.id()).unwrap_or(child.id());
        peak = peak.max(vm_hwm_kib(pid).unwrap_or(0));
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), peak, false);
        }
        if let Some(after) = interrupt
            && !interrupted
            && started.elapsed() >= after
        {
            interrupted = true;
            let _ = Command::new("kill").args(["-INT", "--", &group]).status();
        }
        if started.elapsed() > limit {
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.kill();
            let _ = child.wait();
            return (None, peak, true);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The first child of `pid` (the binary, when GNU time wraps it).
fn first_child(pid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The process's peak resident set (VmHWM), KiB.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
