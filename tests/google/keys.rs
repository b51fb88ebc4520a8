//! Key files that cannot be imported: refused before anything is stored, naming the field that
//! is wrong, exit 2, the profile untouched, and no part of a key in the message.

use super::Lab;
use super::support::idp::google::defaults as g;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_files_that_are_not_service_account_keys_are_refused_naming_the_field() {
    let lab = Lab::new().await;
    let p = lab.sa_profile(&[g::ALICE], false);
    let before = std::fs::read_to_string(&p).unwrap();
    let good: serde_json::Value = serde_json::from_str(&lab.key_json).unwrap();
    let with = |k: &str, v: serde_json::Value| {
        let mut x = good.clone();
        x[k] = v;
        x.to_string()
    };
    let without = |k: &str| {
        let mut x = good.clone();
        x.as_object_mut().unwrap().remove(k);
        x.to_string()
    };
    let truncated = &lab.key_json[..lab.key_json.len() / 2];
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("truncated.json", truncated.to_owned(), "file", "is not JSON"),
        ("list.json", "[]".to_owned(), "file", "not an object"),
        ("user.json", with("type", "authorized_user".into()), "type", "authorized_user"),
        (
            "client_secret_123.apps.googleusercontent.com.json",
            r#"{"installed":{"client_id":"1-x.apps.googleusercontent.com","client_secret":"GOCSPX-x","redirect_uris":["http://localhost"]}}"#.to_owned(),
            "type",
            "OAuth client's file",
        ),
        ("no-type.json", without("type"), "type", "is missing"),
        ("no-key.json", without("private_key"), "private_key", "is missing"),
        ("no-email.json", without("client_email"), "client_email", "is missing"),
        ("no-id.json", with("private_key_id", "".into()), "private_key_id", "is empty"),
        (
            "bad-key.json",
            with("private_key", "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAu1SU1LfVLPHCozMxH2Mo\n-----END PRIVATE KEY-----\n".into()),
            "private_key",
            "not shown",
        ),
        ("http.json", with("token_uri", "http://oauth2.example.com/token".into()), "token_uri", "not an https address"),
    ];
    for (name, text, field, says) in cases {
        let file = lab.dir.path().join(name);
        std::fs::write(&file, &text).unwrap();
        let o = lab
            .mailcfg(
                &[
                    "secret",
                    "--profile",
                    p.to_str().unwrap(),
                    "--account",
                    "Workspace",
                    "--service-account-key",
                    file.to_str().unwrap(),
                ],
                &[],
            )
            .await;
        assert_eq!(o.code, Some(2), "{name}: {}", o.all());
        let want = format!("{}: error: {field}: ", file.display());
        assert!(
            o.stderr.contains(&want),
            "{name}: {want:?} not in {}",
            o.stderr
        );
        assert!(
            o.stderr.contains(says),
            "{name}: {says:?} not in {}",
            o.stderr
        );
        assert!(o.stderr.contains("fix: "), "{name}: {}", o.stderr);
        assert!(!o.stderr.contains("MIIBVQ"), "{name}: {}", o.stderr);
    }
    // Not a regular file, or too large to be a key.
    let folder = lab.dir.path().join("a-folder.json");
    std::fs::create_dir(&folder).unwrap();
    let big = lab.dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 70 * 1024]).unwrap();
    for (file, says) in [(&folder, "a folder"), (&big, "larger than")] {
        let o = lab
            .mailcfg(
                &[
                    "secret",
                    "--profile",
                    p.to_str().unwrap(),
                    "--account",
                    "Workspace",
                    "--service-account-key",
                    file.to_str().unwrap(),
                ],
                &[],
            )
            .await;
        assert_eq!(o.code, Some(2), "{}", o.all());
        assert!(
            o.stderr.contains("error: file: cannot read it") && o.stderr.contains(says),
            "{}",
            o.stderr
        );
    }
    // A Microsoft account takes no key.
    let ms = lab.write_profile(
        "ms.toml",
        "version = 1\n\n[[accounts]]\nname = \"M\"\nprovider = \"microsoft\"\nflow = \"app-only\"\ntenant = \"contoso.onmicrosoft.com\"\nclient_id = \"00000000-0000-0000-0000-000000000000\"\nscopes = [\"https://outlook.office365.com/.default\"]\n",
    );
    let o = lab
        .mailcfg(
            &[
                "secret",
                "--profile",
                ms.to_str().unwrap(),
                "--account",
                "M",
                "--service-account-key",
                lab.key_file.to_str().unwrap(),
            ],
            &[],
        )
        .await;
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(
        o.stderr.contains("is not a Google service account"),
        "{}",
        o.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        before,
        "the profile was changed"
    );
}
