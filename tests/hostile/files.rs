//! Items 3 and 6: only regular files are read (never past the limit) and only regular files are
//! replaced, for the profile, `tls.ca_file` and `export --output`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::*;

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

/// Quick: a refusal reads nothing.
const QUICK: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_that_is_not_a_regular_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    mkfifo(&fifo);
    let zero = dir.path().join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let folder = dir.path().join("folder.toml");
    std::fs::create_dir(&folder).unwrap();
    let sparse = dir.path().join("sparse.toml");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(4 * 1024 * 1024 * 1024)
        .unwrap();
    for (path, said) in [
        (&fifo, "named pipe (FIFO)"),
        (&zero, "character device"),
        (&folder, "folder"),
        (&sparse, "4295.0 MB"),
    ] {
        let p = path.to_str().unwrap();
        for args in [
            vec!["validate", p],
            vec!["export", "--profile", p, "--format", "toml"],
            vec!["test", "--profile", p],
            vec!["token", "--profile", p, "--account", "a"],
        ] {
            // Before: a FIFO hung every command; /dev/zero grew past 15 GB in 20 s.
            let o = run(mailcfg(&args).limit(Duration::from_secs(20))).await;
            assert_bounded(&o, QUICK);
            assert_eq!(o.code, Some(2), "{args:?}: {}", o.all());
            assert!(o.all().contains(said), "{args:?}: {}", o.all());
        }
    }
    assert!(is_fifo(&fifo), "the FIFO is left as it was");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_file_that_is_not_a_certificate_file_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("ca.fifo");
    mkfifo(&fifo);
    let zero = dir.path().join("ca-zero.pem");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let folder = dir.path().join("ca-folder");
    std::fs::create_dir(&folder).unwrap();
    let garbage = dir.path().join("garbage.pem");
    let chunk = vec![b'x'; 1024 * 1024];
    let mut f = std::fs::File::create(&garbage).unwrap();
    for _ in 0..100 {
        std::io::Write::write_all(&mut f, &chunk).unwrap();
    }
    drop(f);
    let no_cert = dir.path().join("key-only.pem");
    std::fs::write(
        &no_cert,
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let not_pem = dir.path().join("text.pem");
    std::fs::write(&not_pem, "just some text\n").unwrap();
    for (path, said) in [
        (&fifo, "named pipe (FIFO)"),
        (&zero, "character device"),
        (&folder, "folder"),
        (&garbage, "larger than 4 MB"),
        (&no_cert, "holds no certificate"),
        (&not_pem, "holds no certificate"),
    ] {
        let body = format!(
            "{}[tls]\nca_file = \"{}\"\n",
            mailbox("imap", 9, None),
            path.display()
        );
        let p = profile(dir.path(), &body);
        // Before: a FIFO, /dev/zero or a folder was "does not exist"; 100 MB of garbage took
        // 13 s of CPU and 292 MB; a file without a certificate passed validation.
        for args in [
            vec!["validate", p.to_str().unwrap()],
            vec!["test", "--profile", p.to_str().unwrap()],
        ] {
            let o = run(mailcfg(&args).limit(Duration::from_secs(20))).await;
            assert_bounded(&o, QUICK);
            assert_eq!(o.code, Some(2), "{args:?} {}: {}", path.display(), o.all());
            let all = o.all();
            assert!(all.contains("tls.ca_file"), "{all}");
            assert!(all.contains(said), "{}: {all}", path.display());
            assert!(
                all.contains(":12:1: error: tls.ca_file"),
                "the line of the key: {all}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_output_replaces_only_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &mailbox("imap", 993, None));
    let original = std::fs::read(&p).unwrap();
    let fifo = dir.path().join("out.fifo");
    mkfifo(&fifo);
    let target = dir.path().join("elsewhere.toml");
    std::fs::write(&target, "keep me").unwrap();
    let link = dir.path().join("link.toml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let mut refused = vec![
        (fifo.clone(), "named pipe"),
        (link.clone(), "symbolic link"),
        (folder.clone(), "folder"),
        (p.clone(), "the profile itself"),
        (
            dir.path().join(".").join("profile.toml"),
            "the profile itself",
        ),
    ];
    // A character device of our own (as root), never the system's /dev/null.
    let device = dir.path().join("null");
    if Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success())
    {
        refused.push((device.clone(), "character device"));
    }
    for (out, said) in &refused {
        let o = run(mailcfg(&[
            "export",
            "--profile",
            p.to_str().unwrap(),
            "--format",
            "toml",
            "--output",
            out.to_str().unwrap(),
        ]))
        .await;
        // Before: a character device became a 0600 regular file, the profile was overwritten.
        assert_eq!(o.code, Some(2), "{}: {}", out.display(), o.all());
        assert!(o.stderr.contains(said), "{}: {}", out.display(), o.stderr);
    }
    assert!(is_fifo(&fifo));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&p).unwrap(), original);
    if device.exists() {
        use std::os::unix::fs::FileTypeExt as _;
        assert!(
            std::fs::metadata(&device)
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }

    // `-` is standard output; no file named "-" appears.
    let o = run(mailcfg(&[
        "export",
        "--profile",
        p.to_str().unwrap(),
        "--format",
        "toml",
        "--output",
        "-",
    ])
    .current_dir(dir.path()))
    .await;
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert!(o.stdout.contains("[[mailboxes]]"), "{}", o.stdout);
    assert!(!dir.path().join("-").exists());

    // A regular file is replaced, 0600.
    let file = dir.path().join("export.toml");
    std::fs::write(&file, "old").unwrap();
    let o = run(mailcfg(&[
        "export",
        "--profile",
        p.to_str().unwrap(),
        "--format",
        "toml",
        "--output",
        file.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.code, Some(0), "{}", o.all());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("[[mailboxes]]")
    );
}
