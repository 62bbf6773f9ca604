//! The dashboard keeps a copy of the OpenAPI document, `web/ui/src/api/openapi.json`, and generates
//! its TypeScript types from it (`npm run api:types`). These tests keep that copy equal to what the
//! server publishes, so a change to the API shows up as a failing test and then as a type error in
//! the dashboard, rather than as a surprise in the browser.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::helpers::spawn_app;

const HOW_TO_REFRESH: &str = "refresh it with `EMS_UPDATE_OPENAPI=1 cargo test -p ems-web --test api openapi`, \
     then regenerate the dashboard's types with `npm run api:types` in web/ui and fix what no longer type-checks";

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/api/openapi.json")
}

/// The document as it is committed: pretty JSON, keys in alphabetical order (serde_json's own map
/// order), and a final newline, so its diff shows only what changed in the API.
fn generated_document() -> String {
    let value = serde_json::to_value(ems_web::openapi_document()).expect("the document is JSON");
    let mut text = serde_json::to_string_pretty(&value).expect("JSON prints");
    text.push('\n');
    text
}

/// Where two texts part, as "line N: committed … / generated …", for a failure message that says
/// more than "they differ".
fn first_difference(committed: &str, generated: &str) -> String {
    let mut committed_lines = committed.lines();
    let mut generated_lines = generated.lines();
    for number in 1.. {
        match (committed_lines.next(), generated_lines.next()) {
            (Some(left), Some(right)) if left == right => continue,
            (left, right) => {
                let show = |line: Option<&str>| line.map_or("(end of file)".to_owned(), |line| line.trim().to_owned());
                return format!("line {number}: committed `{}`, generated `{}`", show(left), show(right));
            }
        }
    }
    unreachable!("the loop returns at the first difference")
}

#[test]
fn the_dashboards_copy_of_the_openapi_document_is_the_generated_one() {
    let path = committed_path();
    let generated = generated_document();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::var("EMS_UPDATE_OPENAPI").as_deref() == Ok("1") {
        if committed != generated {
            std::fs::write(&path, &generated)
                .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
            eprintln!("wrote {}; now run `npm run api:types` in web/ui", path.display());
        }
        return;
    }
    assert!(
        committed == generated,
        "{} is not the OpenAPI document the server publishes ({}); {HOW_TO_REFRESH}",
        path.display(),
        first_difference(&committed, &generated),
    );
}

#[tokio::test]
async fn the_server_publishes_the_same_document_at_api_openapi_json() {
    let app = spawn_app().await;
    let served: Value = app.client.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let generated = serde_json::to_value(ems_web::openapi_document()).unwrap();
    assert!(served == generated, "/api/openapi.json differs from ems_web::openapi_document()");
}
