//! Built-in HTTPS (`serve --tls-cert … --tls-key …`) with certificates made by `openssl`: a
//! test CA and a leaf for 127.0.0.1 signed by it, as a company's own PKI would issue.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::{Certificate, Client, StatusCode};
use tokenwise_testkit::QuotaServer;

const ADMIN: &str = "admin-token-for-the-tls-tests";

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_tokenwise-server"))
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is installed (scripts/install-deps.sh test)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA, and a server certificate for 127.0.0.1 with its key, in `dir`.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    /// A key that belongs to no certificate here.
    other_key: PathBuf,
}

fn make_pki(dir: &Path) -> Pki {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let ca_args = [
        &ec[..],
        &["-x509", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
    ];
    openssl(
        dir,
        &[
            &["req"][..],
            &ca_args.concat(),
            &["-subj", "/CN=Tokenwise test CA"],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "key.pem",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );
    openssl(
        dir,
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "other.key",
                "-out",
                "other.csr",
                "-subj",
                "/CN=x",
            ],
        ]
        .concat(),
    );
    Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
        other_key: dir.join("other.key"),
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test]
async fn the_api_is_served_over_https_to_clients_that_trust_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let database = dir.path().join("quota.sqlite3");
    let server = QuotaServer::start_with(
        binary(),
        path(&database),
        ADMIN,
        &["--tls-cert", path(&pki.cert), "--tls-key", path(&pki.key)],
    );
    assert!(
        server.base.starts_with("https://127.0.0.1:"),
        "{}",
        server.base
    );

    let trusting = Client::builder()
        .add_root_certificate(Certificate::from_pem(&std::fs::read(&pki.ca).unwrap()).unwrap())
        .build()
        .unwrap();
    let health = trusting
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok");
    // The whole API is behind it: the admin API answers, and refuses a wrong token.
    let teams = trusting
        .get(format!("{}/v1/admin/teams", server.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(teams.status(), StatusCode::OK);
    let wrong = trusting
        .get(format!("{}/v1/admin/teams", server.base))
        .bearer_auth("not-the-admin-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    // A client that does not trust the company's CA refuses the connection.
    let stranger = Client::new()
        .get(format!("{}/healthz", server.base))
        .send()
        .await;
    assert!(stranger.is_err(), "an untrusted certificate was accepted");
    // Plain HTTP on the HTTPS port gets no answer, and the server keeps serving.
    let plain = server.base.replace("https://", "http://");
    assert!(Client::new()
        .get(format!("{plain}/healthz"))
        .send()
        .await
        .is_err());
    let again = trusting
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
}

/// `serve` with TLS files that cannot work: it does not start, and says which file and why.
#[test]
fn bad_certificate_files_stop_the_start_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate\n").unwrap();
    let missing = dir.path().join("missing.pem");
    let database = dir.path().join("quota.sqlite3");
    let cases: [(&Path, &Path, &str); 4] = [
        (&pki.cert, &pki.other_key, "does not fit the certificate"),
        (&missing, &pki.key, "cannot read the certificate"),
        (&garbage, &pki.key, "holds no certificate"),
        (&pki.cert, &garbage, "no usable private key"),
    ];
    for (cert, key, expected) in cases {
        let output = Command::new(binary())
            .args([
                "--database-url",
                path(&database),
                "serve",
                "--listen",
                "127.0.0.1:0",
            ])
            .args(["--tls-cert", path(cert), "--tls-key", path(key)])
            .env("TOKENWISE_SERVER_ADMIN_TOKEN", ADMIN)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{cert:?} {key:?} started");
        assert!(output.stdout.is_empty(), "it never listened");
        assert!(stderr.contains(expected), "{cert:?} {key:?}: {stderr}");
        let named = if expected.contains("key") && !expected.contains("fit") {
            key
        } else {
            cert
        };
        assert!(stderr.contains(path(named)), "{stderr}");
    }
    // --tls-cert without --tls-key is a usage error, before anything starts.
    let output = Command::new(binary())
        .args([
            "--database-url",
            path(&database),
            "serve",
            "--tls-cert",
            path(&pki.cert),
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tls-key"));
}
