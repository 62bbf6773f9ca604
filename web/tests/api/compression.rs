//! Compressed answers: the API on the fly (brotli or gzip, as the client asks), the dashboard's
//! files from the `.br` and `.gz` files the build writes beside them.

use std::io::Read;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestSettings, spawn_app, spawn_app_with};

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut plain).expect("valid gzip");
    plain
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    brotli_decompressor::Decompressor::new(bytes, 4096).read_to_end(&mut plain).expect("valid brotli");
    plain
}

#[tokio::test]
async fn the_openapi_document_comes_compressed_as_asked_smaller_and_decodes_to_the_same_json() {
    let app = spawn_app().await;
    let plain = app.client.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.headers().get("content-encoding").is_none(), "no Accept-Encoding, no encoding");
    let plain = plain.bytes().await.unwrap();
    let document: Value = serde_json::from_slice(&plain).unwrap();

    for (accept, encoding, decode) in [
        ("br", "br", unbrotli as fn(&[u8]) -> Vec<u8>),
        ("gzip", "gzip", gunzip),
        ("gzip, deflate, br", "br", unbrotli),
        ("br;q=0.5, gzip", "gzip", gunzip),
    ] {
        let response =
            app.client.get(app.url("/api/openapi.json")).header("accept-encoding", accept).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-encoding"], encoding, "Accept-Encoding: {accept}");
        assert!(response.headers()["vary"].to_str().unwrap().to_lowercase().contains("accept-encoding"));
        let encoded = response.bytes().await.unwrap();
        assert!(
            encoded.len() * 4 < plain.len(),
            "{encoding}: {} bytes for {} (a quarter at most)",
            encoded.len(),
            plain.len()
        );
        assert_eq!(serde_json::from_slice::<Value>(&decode(&encoded)).unwrap(), document, "{encoding}");
    }
}

#[tokio::test]
async fn an_answer_that_sets_the_session_cookie_is_never_compressed() {
    let app = spawn_app().await;
    app.user_with_session("ana", ems_common::Role::Client).await;
    let login = app
        .client
        .post(app.url("/api/auth/login"))
        .header("accept-encoding", "br, gzip")
        .json(&serde_json::json!({"username": "ana", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    assert!(login.headers().contains_key("set-cookie"));
    assert!(login.headers().get("content-encoding").is_none(), "tokens are kept out of compression");
    let session: Value = login.json().await.unwrap();
    assert!(session["access_token"].is_string());
}

#[tokio::test]
async fn a_dashboard_file_is_sent_from_its_precompressed_copy_when_the_client_accepts_it() {
    let ui = std::env::temp_dir().join(format!("ems-ui-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(ui.join("assets")).unwrap();
    std::fs::write(ui.join("index.html"), "<!doctype html><title>EMS</title>").unwrap();
    let script = "console.log('the dashboard');\n".repeat(40);
    std::fs::write(ui.join("assets/app-1a2b3c.js"), &script).unwrap();
    // Markers rather than real encodings: what arrives can only have come from these files.
    std::fs::write(ui.join("assets/app-1a2b3c.js.br"), "precompressed brotli").unwrap();
    std::fs::write(ui.join("assets/app-1a2b3c.js.gz"), "precompressed gzip").unwrap();
    let app = spawn_app_with(TestSettings { ui_dir: ui.clone(), ..TestSettings::default() }).await;
    let get = |accept: &'static str| {
        let request = app.client.get(app.url("/assets/app-1a2b3c.js"));
        async move { request.header("accept-encoding", accept).send().await.unwrap() }
    };

    let br = get("gzip, br").await;
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["content-type"], "text/javascript");
    assert_eq!(br.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(br.text().await.unwrap(), "precompressed brotli");
    let gzip = get("gzip").await;
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_eq!(gzip.text().await.unwrap(), "precompressed gzip");
    let identity = get("identity").await;
    assert!(identity.headers().get("content-encoding").is_none());
    assert_eq!(identity.text().await.unwrap(), script);

    // A file without precompressed copies is compressed on the way out.
    std::fs::write(ui.join("assets/late-4d5e6f.js"), &script).unwrap();
    let response =
        app.client.get(app.url("/assets/late-4d5e6f.js")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(gunzip(&response.bytes().await.unwrap()), script.as_bytes());
    std::fs::remove_dir_all(ui).ok();
}
