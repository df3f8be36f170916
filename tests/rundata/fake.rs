//! A fake of Nous's run-down service on 127.0.0.1 (axum), with the signed-URL storage behind
//! it. It checks every request exactly as the protocol says (the signed message, the signature
//! against the expected signer, the header, the JSON bodies with the nonce as a decimal
//! string, a nonce never reused, the PUT's content type) and records what it got. On demand it
//! misbehaves: 500s from the service, URLs born expired, a download cut halfway (the bytes sent
//! before the cut are whatever left the server by then), listed paths that escape, a body held
//! halfway until the test releases it.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use base64::Engine;
use serde_json::{Value, json};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the storage was asked for: method, object path (run/file) and Range header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageRequest {
    pub method: &'static str,
    pub object: String,
    pub range: Option<String>,
}

/// Misbehaviour, each consumed as it happens.
#[derive(Default)]
pub struct Faults {
    /// The next this many service requests answer 500.
    pub service_500s: u32,
    /// URLs of the next this many service answers are already expired.
    pub expired_answers: u32,
    /// The next GET of this object sends this many bytes, then drops the connection.
    pub cut: Option<(String, usize)>,
    /// The next GET of this object sends half, then waits for `release`.
    pub hold: Option<String>,
    /// Extra `(path, object)` entries in every listing (paths that escape, for example).
    pub extra_listed: Vec<(String, String)>,
    /// Answer `x-goog-hash` with the MD5 (on by default).
    pub no_hash: bool,
    /// Answer every GET with the whole object, Range or not (storage that does not resume).
    pub ignore_range: bool,
}

#[derive(Default)]
struct Inner {
    objects: BTreeMap<String, Vec<u8>>,
    nonces: BTreeSet<String>,
    /// token → expired
    tokens: BTreeMap<u64, bool>,
    violations: Vec<String>,
    service_requests: Vec<(String, Value)>,
    storage_requests: Vec<StorageRequest>,
    faults: Faults,
    held: bool,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    signer: Pubkey,
    base: String,
    release: Arc<tokio::sync::Notify>,
}

pub struct FakeService {
    shared: Shared,
    pub port: u16,
}

/// How long a held body waits to be released before it goes on anyway (nothing hangs).
const HOLD_AT_MOST: Duration = Duration::from_secs(120);

impl FakeService {
    /// A service that accepts requests signed by `signer`.
    pub fn start(signer: Pubkey) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Shared {
            inner: Arc::default(),
            signer,
            base: format!("http://127.0.0.1:{port}"),
            release: Arc::new(tokio::sync::Notify::new()),
        };
        let app = Router::new()
            .route("/v1/upload/{run_id}", post(upload))
            .route("/v1/download/{run_id}", post(download))
            .route("/storage/{*object}", put(store).get(serve))
            .with_state(shared.clone());
        std::thread::spawn(move || runtime.block_on(async move { axum::serve(listener, app).await }));
        Self { shared, port }
    }

    /// The base URL runbooks are given (`RUN_DOWN_URL`).
    pub fn url(&self) -> String {
        format!("{}/v1", self.shared.base)
    }

    pub fn faults(&self, set: impl FnOnce(&mut Faults)) {
        set(&mut self.shared.inner.lock().unwrap().faults);
    }

    /// Lets a held body go on.
    pub fn release(&self) {
        self.shared.release.notify_one();
    }

    /// True once a held body has sent its first half.
    pub fn holding(&self) -> bool {
        self.shared.inner.lock().unwrap().held
    }

    pub fn put_object(&self, object: &str, bytes: Vec<u8>) {
        self.shared.inner.lock().unwrap().objects.insert(object.to_string(), bytes);
    }

    pub fn objects(&self) -> BTreeMap<String, Vec<u8>> {
        self.shared.inner.lock().unwrap().objects.clone()
    }

    /// What broke the protocol (empty when every request was as it must be).
    pub fn violations(&self) -> Vec<String> {
        self.shared.inner.lock().unwrap().violations.clone()
    }

    /// Service requests: the route ("upload/run" or "download/run") and the JSON body.
    pub fn service_requests(&self) -> Vec<(String, Value)> {
        self.shared.inner.lock().unwrap().service_requests.clone()
    }

    pub fn storage_requests(&self) -> Vec<StorageRequest> {
        self.shared.inner.lock().unwrap().storage_requests.clone()
    }
}

fn refuse(shared: &Shared, status: StatusCode, why: String) -> Response {
    shared.inner.lock().unwrap().violations.push(why.clone());
    (status, why).into_response()
}

/// Checks a service request: JSON content, exactly `keys`, a fresh decimal-string nonce, and
/// the signature of `nous-run-down-service:{run_id}:{expiresInSeconds}:{nonce}` by the signer.
fn check(
    shared: &Shared,
    run_id: &str,
    headers: &HeaderMap,
    body: &Bytes,
    keys: &[&str],
) -> Result<Value, (StatusCode, String)> {
    let bad = |why: String| Err((StatusCode::BAD_REQUEST, why));
    if headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some("application/json") {
        return bad(format!("content-type is {:?}, not application/json", headers.get(header::CONTENT_TYPE)));
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else { return bad("the body is not JSON".into()) };
    let Some(object) = value.as_object() else { return bad("the body is not an object".into()) };
    let got: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    if got != keys.iter().copied().collect() {
        return bad(format!("body keys are {got:?}, not {keys:?}"));
    }
    let Some(expires) = object["expiresInSeconds"].as_u64() else {
        return bad(format!("expiresInSeconds is {}, not an integer", object["expiresInSeconds"]));
    };
    let Some(nonce) = object["nonce"].as_str() else {
        return bad(format!("nonce is {}, not a string", object["nonce"]));
    };
    if nonce.parse::<u64>().map(|n| n.to_string()).as_deref() != Ok(nonce) {
        return bad(format!("nonce {nonce:?} is not a decimal u64"));
    }
    let Some(signature) = headers.get("x-solana-signature").and_then(|v| v.to_str().ok()) else {
        return Err((StatusCode::UNAUTHORIZED, "no X-Solana-Signature header".into()));
    };
    let message = format!("nous-run-down-service:{run_id}:{expires}:{nonce}");
    let valid = Signature::from_str(signature).is_ok_and(|s| s.verify(shared.signer.as_ref(), message.as_bytes()));
    if !valid {
        return Err((StatusCode::UNAUTHORIZED, format!("bad signature for {message:?}")));
    }
    if !shared.inner.lock().unwrap().nonces.insert(nonce.to_string()) {
        return Err((StatusCode::UNAUTHORIZED, format!("nonce {nonce} was used before")));
    }
    Ok(value)
}

/// A 500 when one is due, counted down.
fn injected_500(shared: &Shared) -> Option<Response> {
    let mut inner = shared.inner.lock().unwrap();
    (inner.faults.service_500s > 0).then(|| {
        inner.faults.service_500s -= 1;
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error: storage backend unavailable").into_response()
    })
}

/// A signed URL for `object` (born expired when the faults say so for this answer).
fn signed_url(shared: &Shared, inner: &mut Inner, object: &str, expired: bool) -> String {
    let token = inner.tokens.len() as u64 + 1;
    inner.tokens.insert(token, expired);
    format!("{}/storage/{object}?token={token}", shared.base)
}

fn expiring(inner: &mut Inner) -> bool {
    let expired = inner.faults.expired_answers > 0;
    inner.faults.expired_answers = inner.faults.expired_answers.saturating_sub(1);
    expired
}

async fn upload(State(s): State<Shared>, Path(run_id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let value = match check(&s, &run_id, &headers, &body, &["filename", "expiresInSeconds", "nonce"]) {
        Ok(v) => v,
        Err((status, why)) => return refuse(&s, status, why),
    };
    s.inner.lock().unwrap().service_requests.push((format!("upload/{run_id}"), value.clone()));
    if let Some(response) = injected_500(&s) {
        return response;
    }
    let Some(filename) = value["filename"].as_str().filter(|f| !f.is_empty()) else {
        return refuse(&s, StatusCode::BAD_REQUEST, format!("filename is {}", value["filename"]));
    };
    let mut inner = s.inner.lock().unwrap();
    let expired = expiring(&mut inner);
    let url = signed_url(&s, &mut inner, &format!("{run_id}/{filename}"), expired);
    axum::Json(json!({ "url": url, "expiresAt": "2030-01-01T00:00:00.000Z" })).into_response()
}

async fn download(State(s): State<Shared>, Path(run_id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let value = match check(&s, &run_id, &headers, &body, &["expiresInSeconds", "nonce"]) {
        Ok(v) => v,
        Err((status, why)) => return refuse(&s, status, why),
    };
    s.inner.lock().unwrap().service_requests.push((format!("download/{run_id}"), value));
    if let Some(response) = injected_500(&s) {
        return response;
    }
    let mut inner = s.inner.lock().unwrap();
    let expired = expiring(&mut inner);
    let prefix = format!("{run_id}/");
    let mut listed: Vec<(String, String)> = inner
        .objects
        .keys()
        .filter_map(|object| Some((object.strip_prefix(&prefix)?.to_string(), object.clone())))
        .collect();
    listed.extend(inner.faults.extra_listed.clone());
    let urls: Vec<Value> = listed
        .iter()
        .map(|(path, object)| json!({ "path": path, "url": signed_url(&s, &mut inner, object, expired) }))
        .collect();
    axum::Json(json!({ "urls": urls, "expiresAt": "2030-01-01T00:00:00.000Z" })).into_response()
}

/// The storage's refusal of a token it did not sign, or one past its expiry.
fn check_token(s: &Shared, uri: &Uri) -> Option<Response> {
    let token = uri.query().and_then(|q| q.strip_prefix("token=")).and_then(|t| t.parse::<u64>().ok());
    match token.and_then(|t| s.inner.lock().unwrap().tokens.get(&t).copied()) {
        Some(false) => None,
        Some(true) => Some(
            (
                StatusCode::BAD_REQUEST,
                "<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>",
            )
                .into_response(),
        ),
        None => Some(refuse(s, StatusCode::FORBIDDEN, format!("storage: unknown token in {uri}"))),
    }
}

async fn store(
    State(s): State<Shared>,
    Path(object): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    s.inner.lock().unwrap().storage_requests.push(StorageRequest {
        method: "PUT",
        object: object.clone(),
        range: None,
    });
    if let Some(refusal) = check_token(&s, &uri) {
        return refusal;
    }
    if headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some("application/octet-stream") {
        return refuse(
            &s,
            StatusCode::BAD_REQUEST,
            format!("PUT {object}: content-type is not application/octet-stream"),
        );
    }
    s.inner.lock().unwrap().objects.insert(object, body.to_vec());
    StatusCode::OK.into_response()
}

fn md5_base64(bytes: &[u8]) -> String {
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(bytes))
}

async fn serve(State(s): State<Shared>, Path(object): Path<String>, uri: Uri, headers: HeaderMap) -> Response {
    let asked = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_string);
    s.inner.lock().unwrap().storage_requests.push(StorageRequest {
        method: "GET",
        object: object.clone(),
        range: asked.clone(),
    });
    let range = asked.filter(|_| !s.inner.lock().unwrap().faults.ignore_range);
    if let Some(refusal) = check_token(&s, &uri) {
        return refusal;
    }
    let (bytes, cut, hold, hash) = {
        let mut inner = s.inner.lock().unwrap();
        let Some(bytes) = inner.objects.get(&object).cloned() else {
            return (StatusCode::NOT_FOUND, format!("no object {object}")).into_response();
        };
        let cut = inner.faults.cut.take_if(|(o, _)| *o == object).map(|(_, n)| n);
        let hold = inner.faults.hold.take_if(|o| *o == object).is_some();
        (bytes, cut, hold, !inner.faults.no_hash)
    };
    let whole = bytes.len();
    let start = match range.as_deref().and_then(|r| r.strip_prefix("bytes=")).and_then(|r| r.strip_suffix('-')) {
        Some(n) => match n.parse::<usize>() {
            Ok(n) if n < whole => n,
            _ => return (StatusCode::RANGE_NOT_SATISFIABLE, "").into_response(),
        },
        None => 0,
    };
    let mut response = Response::builder()
        .status(if range.is_some() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK })
        .header(header::CONTENT_LENGTH, whole - start);
    if range.is_some() {
        response = response.header(header::CONTENT_RANGE, format!("bytes {start}-{}/{whole}", whole - 1));
    }
    if hash {
        response = response
            .header("x-goog-hash", "crc32c=AAAAAA==")
            .header("x-goog-hash", format!("md5={}", md5_base64(&bytes)));
    }
    let body = Bytes::from(bytes[start..].to_vec());
    let body = if let Some(n) = cut {
        // The first `n` bytes, a pause so they leave the server, then the connection drops.
        let first = body.slice(..n.min(body.len()));
        let stream = futures::stream::unfold(0, move |step| {
            let first = first.clone();
            async move {
                match step {
                    0 => Some((Ok(first), 1)),
                    1 => {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        Some((Err(std::io::Error::other("connection cut by the fake")), 2))
                    }
                    _ => None,
                }
            }
        });
        Body::from_stream(stream)
    } else if hold {
        let half = body.len() / 2;
        let (first, rest) = (body.slice(..half), body.slice(half..));
        let (inner, release) = (Arc::clone(&s.inner), Arc::clone(&s.release));
        let stream = futures::stream::unfold(0, move |step| {
            let (first, rest, inner, release) = (first.clone(), rest.clone(), Arc::clone(&inner), Arc::clone(&release));
            async move {
                match step {
                    0 => Some((Ok::<Bytes, std::io::Error>(first), 1)),
                    1 => {
                        inner.lock().unwrap().held = true;
                        let _ = tokio::time::timeout(HOLD_AT_MOST, release.notified()).await;
                        Some((Ok(rest), 2))
                    }
                    _ => None,
                }
            }
        });
        Body::from_stream(stream)
    } else {
        Body::from(body)
    };
    response.body(body).unwrap()
}
