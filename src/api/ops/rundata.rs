//! Run data through the run-down service: `upload_data` sends a file or a directory to a run,
//! `download_results` fetches its results into a directory. The host signs each request with
//! the payer's key; scripts only name the run and the paths. A dry-run lists what would move
//! and sends nothing.

use crate::api::host::Host;
use crate::api::values::big_int::to_u64;
use crate::api::values::error::HostError;
use crate::api::values::keys::SignerHandle;
use crate::api::values::runs::check_run_id;
use crate::rundown::progress::Progress;
use crate::rundown::service::{Service, http_client};
use crate::rundown::upload::sources;
use crate::rundown::{DEFAULT_EXPIRES_IN_SECONDS, Moved, TransferError, download, upload};
use rhai::plugin::*;
use rhai::{Array, EvalAltResult, INT, Map};
use solana_sdk::signature::Keypair;
use std::path::PathBuf;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// How errors name the service requests went to.
const SERVICE: &str = "run-down service";

impl From<TransferError> for HostError {
    fn from(e: TransferError) -> Self {
        // The runbook's error report says whether anything was sent.
        if e.sent { HostError::chain(e.message) } else { HostError::input(e.message) }
    }
}

/// What an operation's options say: how long URLs stay valid, whether differing files go.
struct Options {
    expires_in_seconds: u64,
    overwrite: bool,
}

fn options(what: &str, map: &Map, known: &[&str]) -> Result<Options, HostError> {
    if let Some(key) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(HostError::input(format!("{what}: unknown option `{key}` ({})", known.join(", "))));
    }
    let expires_in_seconds = match map.get("expires_in_seconds") {
        None => DEFAULT_EXPIRES_IN_SECONDS,
        Some(v) => to_u64(v, "expires_in_seconds")?,
    };
    if expires_in_seconds == 0 {
        return Err(HostError::input(format!("{what}: expires_in_seconds must be at least 1")));
    }
    let overwrite = match map.get("overwrite") {
        None => false,
        Some(v) => v.as_bool().map_err(|t| HostError::input(format!("{what}: overwrite must be a bool, not {t}")))?,
    };
    Ok(Options { expires_in_seconds, overwrite })
}

fn check_run(host: &Host, run_id: &str) -> Result<(), HostError> {
    check_run_id(run_id)?;
    host.check_run_allowed(run_id)
}

/// `#{files, bytes, skipped}`: the paths moved, their bytes, and how many were already there.
fn report(moved: &[Moved]) -> Map {
    let mut map = Map::new();
    let (skipped, sent): (Vec<&Moved>, Vec<&Moved>) = moved.iter().partition(|m| m.how == "skipped");
    let files: Array = sent.iter().map(|m| Dynamic::from(m.path.clone())).collect();
    map.insert("files".into(), files.into());
    map.insert("bytes".into(), (sent.iter().map(|m| m.bytes).sum::<u64>() as INT).into());
    map.insert("skipped".into(), (skipped.len() as INT).into());
    map
}

/// Largest file that could hold a key, in any of its forms.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// `upload_data` (the `upload-data` command calls it too); `opts` as the runbook gives them.
pub fn upload_data(host: &Host, run_id: &str, path: &str, opts: &Map) -> Result<Map, HostError> {
    check_run(host, run_id)?;
    let opts = options("upload_data", opts, &["expires_in_seconds"])?;
    let boundary = |path: &str| host.files.resolve(path).map_err(|e| HostError::input(format!("upload_data: {}", e.0)));
    let path = boundary(path)?;
    let files = sources(&path, &mut |skipped| {
        host.log.warn(&format!("upload_data: {} is not a regular file or directory; skipped", skipped.display()))
    })
    .map_err(|e| HostError::input(format!("upload_data: {}", e.message)))?;
    // Every file walked to is inside the read roots, and none is a key (small files are
    // checked by their content too).
    for file in &files {
        let shown = file.file.display().to_string();
        boundary(&shown)?;
        if file.bytes <= MAX_KEY_FILE_BYTES {
            host.files.read_bytes(&shown, "run data").map_err(|e| HostError::input(format!("upload_data: {}", e.0)))?;
        }
    }
    let bytes = files.iter().map(|s| s.bytes).sum();
    let base = service_url(host, "upload_data")?;
    if host.is_dry_run() {
        for file in &files {
            host.log.info(&format!("[dry-run] would upload {} ({} bytes) to run \"{run_id}\"", file.name, file.bytes));
        }
        host.log.info(&format!("[dry-run] {} file(s), {bytes} bytes, via {base}; nothing was sent", files.len()));
        let planned: Vec<Moved> =
            files.iter().map(|s| Moved { path: s.name.clone(), bytes: s.bytes, how: "planned" }).collect();
        return Ok(report(&planned));
    }
    if files.is_empty() {
        return Err(HostError::input(format!("upload_data: {} holds no files", path.display())));
    }
    let payer = host.payer()?;
    let service = Service {
        http: http_client()?,
        base: base.clone(),
        run_id: run_id.to_string(),
        expires_in_seconds: opts.expires_in_seconds,
        signer: service_key(&payer, "upload_data", files.len())?,
    };
    host.record_off_chain(SERVICE);
    let progress = Progress::new(&host.log, "upload", files.len(), bytes);
    let moved = upload::upload(&service, &files, &progress)?;
    progress.finish(&moved, &format!("to run \"{run_id}\""));
    Ok(report(&moved))
}

/// The run-down service's URL; runbook tests have none, so a transfer never leaves a test.
fn service_url<'a>(host: &'a Host, what: &str) -> Result<&'a String, HostError> {
    match &host.settings.run_down_url {
        url if url.is_empty() => Err(HostError::input(format!(
            "{what}: no run-down service here (runbook tests reach none); nothing was sent"
        ))),
        url => Ok(url),
    }
}

/// The key that signs the service's requests (one or more a file): a key in memory, since a
/// device would be asked to approve each of them.
fn service_key<'a>(payer: &'a SignerHandle, what: &str, files: usize) -> Result<&'a Keypair, HostError> {
    match payer.device() {
        Some(device) => Err(HostError::refused(format!(
            "{what}: the run-down service takes a signed request for each of {files} file(s) and more, and the {} would have to approve every one; run it with a keypair file as -k (a hot key the run's authority trusts); nothing was sent",
            device.name()
        ))),
        None => payer.keypair(what),
    }
}

/// `download_results` (the `download-results` command calls it too).
pub fn download_results(host: &Host, run_id: &str, dir: &str, opts: &Map) -> Result<Map, HostError> {
    check_run(host, run_id)?;
    let opts = options("download_results", opts, &["expires_in_seconds", "overwrite"])?;
    let root = PathBuf::from(dir);
    if root.exists() && !root.is_dir() {
        return Err(HostError::input(format!("download_results: {dir} is not a directory")));
    }
    let base = service_url(host, "download_results")?;
    if host.is_dry_run() {
        host.log.info(&format!(
            "[dry-run] would ask {base}/download/{run_id} for the results of run \"{run_id}\" and download them into {dir}; nothing was sent"
        ));
        return Ok(report(&[]));
    }
    let payer = host.payer()?;
    let service = Service {
        http: http_client()?,
        base: base.clone(),
        run_id: run_id.to_string(),
        expires_in_seconds: opts.expires_in_seconds,
        signer: service_key(&payer, "download_results", 1)?,
    };
    host.record_off_chain(SERVICE);
    let progress = Progress::new(&host.log, "download", 0, 0);
    let moved = download::download(&service, &root, opts.overwrite, &progress)?;
    progress.finish(&moved, &format!("into {dir}"));
    Ok(report(&moved))
}

#[export_module]
pub mod rundata_api {
    use super::*;

    /// Uploads a file, or every file under a directory (relative paths kept), to run `run_id`
    /// through the run-down service, signed by the payer. Returns `#{files, bytes, skipped}`.
    /// ```rhai
    /// upload_data("my-run", "data/");
    /// ```
    #[rhai_fn(name = "upload_data", return_raw)]
    pub fn upload_data(ctx: NativeCallContext, run_id: &str, path: &str) -> Res<Map> {
        Ok(super::upload_data(&Host::of(&ctx), run_id, path, &Map::new())?)
    }

    /// `upload_data` with options: `#{expires_in_seconds}` (how long the signed URLs stay
    /// valid, 3600 by default).
    #[rhai_fn(name = "upload_data", return_raw)]
    pub fn upload_data_with(ctx: NativeCallContext, run_id: &str, path: &str, opts: Map) -> Res<Map> {
        Ok(super::upload_data(&Host::of(&ctx), run_id, path, &opts)?)
    }

    /// Downloads every file of run `run_id`'s results into `dir` (relative paths kept): files
    /// already complete are skipped, partial ones resumed, and nothing incomplete ever stands
    /// under a final name. Returns `#{files, bytes, skipped}`.
    /// ```rhai
    /// download_results("my-run", "results/");
    /// ```
    #[rhai_fn(name = "download_results", return_raw)]
    pub fn download_results(ctx: NativeCallContext, run_id: &str, dir: &str) -> Res<Map> {
        Ok(super::download_results(&Host::of(&ctx), run_id, dir, &Map::new())?)
    }

    /// `download_results` with options: `#{expires_in_seconds, overwrite}` (`overwrite: true`
    /// replaces local files that differ from the run's; by default they are an error).
    #[rhai_fn(name = "download_results", return_raw)]
    pub fn download_results_with(ctx: NativeCallContext, run_id: &str, dir: &str, opts: Map) -> Res<Map> {
        Ok(super::download_results(&Host::of(&ctx), run_id, dir, &opts)?)
    }
}
