//! HTTPS served directly: a client that trusts the (freshly made, self-signed) certificate
//! gets the summary, and plain HTTP to the same port gets nothing.

use tempfile::TempDir;

use crate::process::{start, terminate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_with_the_given_certificate() {
    let dir = TempDir::new().expect("temp dir");
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("certificate");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, certified.cert.pem()).expect("cert written");
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).expect("key written");
    let (mut server, http_url) = start(
        &dir.path().join("tls.duckdb"),
        &[
            "--demo",
            "--demo-rows",
            "300",
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
    );
    let port = http_url.rsplit(':').next().expect("port").to_owned();
    let trusted = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).expect("pem"),
        )
        .build()
        .expect("client");
    let summary: serde_json::Value = trusted
        .get(format!("https://localhost:{port}/analytics/summary"))
        .send()
        .await
        .expect("HTTPS answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(summary["total_events"], 300);
    let untrusting = reqwest::Client::new();
    assert!(
        untrusting
            .get(format!("https://localhost:{port}/healthz"))
            .send()
            .await
            .is_err(),
        "an unknown certificate is refused"
    );
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(
        plain.is_err() || !plain.expect("answer").status().is_success(),
        "plain HTTP gets no answer"
    );
    assert!(terminate(&mut server).success());
}
