//! The built dashboard: files from `--static-dir` (or, with the `embed-dashboard` feature,
//! from inside the binary), `index.html` for every route-like path so deep links load, and a
//! Content-Security-Policy that allows exactly the page's own inline boot script.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::error::AppError;
use crate::state::AppState;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_dashboard.rs"));
}

/// Serves a request for a file of the dashboard: from `--static-dir` if given, else from the
/// copy built into the binary.
pub async fn serve(state: &AppState, request: Request) -> Response {
    let Some(dir) = state.settings.static_dir.clone() else {
        let accepted = accepted_encodings(&request);
        return serve_embedded(
            request.uri().path(),
            &accepted,
            &state.settings.frame_ancestors,
        );
    };
    let path = request.uri().path().to_owned();
    if is_route(&path) {
        return index_page(&dir, &state.settings.frame_ancestors).await;
    }
    // `make dashboard` writes FILE.br and FILE.gz beside each asset: sent as they are.
    let files = ServeDir::new(&dir).precompressed_br().precompressed_gzip();
    let mut response = match files.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        return AppError::NotFound(path).into_response();
    }
    asset_headers(&path, response.headers_mut());
    response
}

fn embedded_file(path: &str) -> Option<&'static [u8]> {
    embedded::FILES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| *bytes)
}

/// True when this binary carries a built dashboard.
pub fn has_embedded_dashboard() -> bool {
    embedded_file("/index.html").is_some()
}

/// The content codings the client accepts, of those the dashboard is precompressed in, as
/// file extensions, brotli first.
fn accepted_encodings(request: &Request) -> Vec<&'static str> {
    let header = request
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    accepted_extensions(header)
}

fn accepted_extensions(accept_encoding: &str) -> Vec<&'static str> {
    // "br;q=0" refuses br: a coding counts when its weight is absent or above zero.
    let accepts = |coding: &str| {
        accept_encoding.split(',').any(|part| {
            let mut fields = part.split(';').map(str::trim);
            let name = fields.next().unwrap_or_default();
            let weight = fields
                .find_map(|field| field.strip_prefix("q="))
                .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
            name.eq_ignore_ascii_case(coding) && weight > 0.0
        })
    };
    [("br", "br"), ("gzip", "gz")]
        .into_iter()
        .filter(|(coding, _)| accepts(coding))
        .map(|(_, extension)| extension)
        .collect()
}

fn serve_embedded(path: &str, accepted: &[&'static str], frame_ancestors: &str) -> Response {
    if is_route(path) {
        return match embedded_file("/index.html") {
            Some(html) => html_response(String::from_utf8_lossy(html).into_owned(), frame_ancestors),
            None => AppError::NotFound(format!(
                "{path}: this binary was built without the dashboard; build it (make dashboard) or pass --static-dir"
            ))
            .into_response(),
        };
    }
    let Some(bytes) = embedded_file(path) else {
        return AppError::NotFound(path.to_owned()).into_response();
    };
    // The smallest precompressed copy the client accepts, else the file itself.
    let compressed = accepted.iter().find_map(|extension| {
        embedded_file(&format!("{path}.{extension}")).map(|bytes| (*extension, bytes))
    });
    let (coding, bytes) = match compressed {
        Some(("br", bytes)) => (Some("br"), bytes),
        Some((_, bytes)) => (Some("gzip"), bytes),
        None => (None, bytes),
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    if let Some(coding) = coding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    asset_headers(path, headers);
    response
}

/// How long a file may be cached, and for scripts the policy they run under as a worker
/// (boot.js downloads and compiles the WebAssembly in one); a page ignores a script's own.
fn asset_headers(path: &str, headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, cache_control(path));
    if path.ends_with(".js") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; connect-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'",
            ),
        );
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "wasm" => "application/wasm",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "html" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// Paths without a file extension are the app's routes, and so is every session page
/// (a session id may contain a dot).
fn is_route(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    last.is_empty() || !last.contains('.') || last == "index.html" || path.contains("/sessions/")
}

/// Trunk names assets with a content hash: those never change and may be cached for good.
fn cache_control(path: &str) -> HeaderValue {
    let hashed = path
        .rsplit('/')
        .next()
        .and_then(|name| name.split('.').next())
        .and_then(|stem| stem.trim_end_matches("_bg").rsplit('-').next())
        .is_some_and(|tail| tail.len() >= 16 && tail.chars().all(|c| c.is_ascii_hexdigit()));
    HeaderValue::from_static(if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    })
}

async fn index_page(dir: &Path, frame_ancestors: &str) -> Response {
    let file: PathBuf = dir.join("index.html");
    match tokio::fs::read_to_string(&file).await {
        Ok(html) => html_response(html, frame_ancestors),
        Err(_) => AppError::NotFound(format!("{} (build the dashboard first)", file.display()))
            .into_response(),
    }
}

pub fn html_response(html: String, frame_ancestors: &str) -> Response {
    let policy = content_security_policy(&html, frame_ancestors);
    let mut response = (StatusCode::OK, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// A policy for the wasm app: its own scripts plus the hashes of the inline ones trunk
/// writes, WebAssembly compilation, and API calls to any origin (`?api=` may point
/// elsewhere; the token is only ever sent to the API it was entered for).
pub fn content_security_policy(html: &str, frame_ancestors: &str) -> String {
    let hashes: String = inline_scripts(html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; connect-src *; font-src 'self' data:; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors {frame_ancestors}"
    )
}

/// The contents of `<script>` elements without a `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, after) = rest.split_once('>')?;
        if attributes.contains("src=") {
            return None;
        }
        after.split_once("</script>").map(|(body, _)| body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_files_are_told_apart() {
        assert!(is_route("/"));
        assert!(is_route("/events/abc"));
        assert!(!is_route("/coachboard-0123456789abcdef_bg.wasm"));
        assert!(!is_route("/config.json"));
    }

    #[test]
    fn precompressed_copies_follow_accept_encoding() {
        assert_eq!(accepted_extensions("gzip, deflate, br, zstd"), ["br", "gz"]);
        assert_eq!(accepted_extensions("gzip;q=0.5, br;q=0"), ["gz"]);
        assert_eq!(accepted_extensions("identity"), Vec::<&str>::new());
        assert_eq!(accepted_extensions(""), Vec::<&str>::new());
    }

    #[test]
    fn hashed_assets_are_immutable() {
        assert_eq!(
            cache_control("/coachboard-8f3a2b1c9d0e7f65_bg.wasm"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_control("/config.json"), "no-cache");
    }

    #[test]
    fn policy_allows_the_inline_boot_script_only() {
        let html = "<script type=\"module\">boot()</script><script src=\"/x.js\"></script>";
        let policy = content_security_policy(html, "'self'");
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"boot()"));
        assert!(policy.contains(&format!("'sha256-{expected}'")));
        assert!(policy.ends_with("frame-ancestors 'self'"));
    }
}
