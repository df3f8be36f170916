//! The run-down service's protocol: the operator's key signs
//! `nous-run-down-service:{run_id}:{expires_in_seconds}:{nonce}` (a fresh random nonce per
//! request), the base58 signature rides in `X-Solana-Signature` on a JSON POST to
//! `{base}/upload/{run_id}` or `{base}/download/{run_id}`, and the answer holds signed storage
//! URLs. A refusal is reported with the service's status and body.

use crate::rundown::TransferError;
use serde::Deserialize;
use serde_json::{Value, json};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::time::Duration;

/// The header carrying the request's signature.
pub const SIGNATURE_HEADER: &str = "X-Solana-Signature";
/// How long the service may take to answer one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting (to the service or the storage) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The message a request's signature covers.
pub fn message(run_id: &str, expires_in_seconds: u64, nonce: u64) -> String {
    format!("nous-run-down-service:{run_id}:{expires_in_seconds}:{nonce}")
}

/// The answer to an upload request: where to PUT the file's bytes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadUrl {
    pub url: String,
    pub expires_at: String,
}

/// One file of a run's results and its signed URL.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Listed {
    pub path: String,
    pub url: String,
}

/// The answer to a download request: every file of the run's results.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadUrls {
    pub urls: Vec<Listed>,
    pub expires_at: String,
}

/// An HTTP client with the connect timeout every request of a transfer uses, and no overall
/// timeout: a large file may take as long as it takes (reads that stall still time out).
pub fn http_client() -> Result<reqwest::blocking::Client, TransferError> {
    reqwest::blocking::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(None)
        .build()
        .map_err(|e| TransferError::before(format!("cannot set up an HTTP client: {}", describe(&e))))
}

/// The error with its causes ("error sending request: connection refused").
pub fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text += &format!(": {cause}");
        source = cause.source();
    }
    text
}

/// The service for one run, signing with the operator's key.
pub struct Service<'a> {
    pub http: reqwest::blocking::Client,
    pub base: String,
    pub run_id: String,
    pub expires_in_seconds: u64,
    pub signer: &'a Keypair,
}

impl Service<'_> {
    /// A signed URL to PUT `filename` (a relative path with `/` separators) to.
    pub fn upload_url(&self, filename: &str) -> Result<UploadUrl, TransferError> {
        let nonce = rand::random::<u64>();
        let body = json!({
            "filename": filename,
            "expiresInSeconds": self.expires_in_seconds,
            "nonce": nonce.to_string(),
        });
        self.post("upload", nonce, &body)
    }

    /// Signed URLs for every file of the run's results.
    pub fn download_urls(&self) -> Result<DownloadUrls, TransferError> {
        let nonce = rand::random::<u64>();
        let body = json!({ "expiresInSeconds": self.expires_in_seconds, "nonce": nonce.to_string() });
        self.post("download", nonce, &body)
    }

    fn post<T: serde::de::DeserializeOwned>(&self, what: &str, nonce: u64, body: &Value) -> Result<T, TransferError> {
        let signed = message(&self.run_id, self.expires_in_seconds, nonce);
        let signature = bs58::encode(self.signer.sign_message(signed.as_bytes()).as_ref()).into_string();
        let url = format!("{}/{what}/{}", self.base, self.run_id);
        let response = self
            .http
            .post(&url)
            .timeout(REQUEST_TIMEOUT)
            .header(SIGNATURE_HEADER, signature)
            .json(body)
            .send()
            .map_err(|e| TransferError::after(format!("run-down service {url}: {}", describe(&e))))?;
        let status = response.status();
        let text = response.text().map_err(|e| {
            TransferError::after(format!("run-down service {url}: reading the answer: {}", describe(&e)))
        })?;
        if !status.is_success() {
            return Err(TransferError::after(format!(
                "run-down service refused the {what} request for run \"{}\" ({url}): {status}: {}",
                self.run_id,
                text.trim()
            )));
        }
        serde_json::from_str(&text).map_err(|e| {
            TransferError::after(format!("run-down service {url}: unexpected answer ({e}): {}", text.trim()))
        })
    }
}
