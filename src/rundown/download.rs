//! Downloading a run's results into a directory. Every listed path is checked before anything
//! is written. Each file is written to a hidden partial file beside its final name, synced and
//! renamed only once complete (and, when the storage answers an MD5, verified), so an
//! interruption never leaves a truncated file under a final name. A re-run skips files already
//! complete (same size, same checksum when known) and resumes partial ones with an HTTP Range
//! request where the storage honours it (a resumed file whose checksum then differs is fetched
//! again whole). A URL the storage no longer accepts is asked for again once.

use crate::rundown::checksum::{md5_of_file, md5_of_goog_hash};
use crate::rundown::paths::{local, partial, refusal};
use crate::rundown::progress::Progress;
use crate::rundown::service::{Listed, Service, describe};
use crate::rundown::upload::expired;
use crate::rundown::{Moved, TransferError};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, RANGE};
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// How long a read from the storage may stall before the download stops (and can resume).
const READ_STALL: Duration = Duration::from_secs(120);

/// Refuses a listing with any path that would land outside `root` (or twice in it), naming
/// every such path; nothing is written.
pub fn check_listing(root: &Path, listing: &[Listed]) -> Result<(), TransferError> {
    let mut seen = BTreeSet::new();
    let mut bad = Vec::new();
    for entry in listing {
        if let Some(why) = refusal(root, &entry.path) {
            bad.push(format!("{:?} {why}", entry.path));
        } else if !seen.insert(entry.path.as_str()) {
            bad.push(format!("{:?} is listed twice", entry.path));
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    Err(TransferError::after(format!(
        "the run-down service listed paths that would escape {}: {}; nothing was written",
        root.display(),
        bad.join(", ")
    )))
}

/// What one GET brought: a file written, one already complete, or a URL to ask for again.
enum Fetched {
    Done(Moved),
    Expired(String),
}

/// Downloads every file of the run's results into `root`; stops at the first failure (a
/// re-run picks up from there). `overwrite` replaces local files that differ.
pub fn download(
    service: &Service,
    root: &Path,
    overwrite: bool,
    progress: &Progress,
) -> Result<Vec<Moved>, TransferError> {
    let answer = service.download_urls()?;
    let (mut listing, mut valid_until) = (answer.urls, answer.expires_at);
    check_listing(root, &listing)?;
    progress.set_files(listing.len());
    std::fs::create_dir_all(root).map_err(|e| TransferError::after(format!("{}: {e}", root.display())))?;
    let mut moved = Vec::new();
    for i in 0..listing.len() {
        let path = listing[i].path.clone();
        let mut asked_again = false;
        loop {
            match fetch(service, &listing[i], root, overwrite, progress)? {
                Fetched::Done(done) => {
                    moved.push(done);
                    break;
                }
                Fetched::Expired(answer) if asked_again => {
                    return Err(TransferError::after(format!(
                        "downloading {path}: the storage refused a fresh URL too (the service said it was valid until {valid_until}; is this machine's clock right?): {answer}"
                    )));
                }
                Fetched::Expired(_) => {
                    asked_again = true;
                    let renewed = service.download_urls()?;
                    let fresh = renewed.urls;
                    valid_until = renewed.expires_at;
                    check_listing(root, &fresh)?;
                    if !fresh.iter().any(|entry| entry.path == path) {
                        return Err(TransferError::after(format!(
                            "downloading {path}: the run-down service no longer lists it"
                        )));
                    }
                    // The rest of the listing came with the expired URL: every URL is renewed.
                    for entry in listing.iter_mut() {
                        if let Some(renewed) = fresh.iter().find(|f| f.path == entry.path) {
                            entry.url = renewed.url.clone();
                        }
                    }
                }
            }
        }
    }
    Ok(moved)
}

/// The object's whole size from a `Content-Range: bytes a-b/total` answer.
fn range_total(response: &reqwest::blocking::Response) -> Option<u64> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    value.rsplit_once('/')?.1.trim().parse().ok()
}

fn fail(path: &str, e: impl std::fmt::Display) -> TransferError {
    TransferError::after(format!("downloading {path}: {e}"))
}

/// One GET of `entry` (resuming its partial file when there is one), written to `root`.
fn fetch(
    service: &Service,
    entry: &Listed,
    root: &Path,
    overwrite: bool,
    progress: &Progress,
) -> Result<Fetched, TransferError> {
    let target = local(root, &entry.path);
    let part = partial(&target);
    let have = std::fs::metadata(&part).map_or(0, |m| m.len());
    let mut request = service.http.get(&entry.url).timeout(READ_STALL);
    if have > 0 {
        request = request.header(RANGE, format!("bytes={have}-"));
    }
    let mut response = request.send().map_err(|e| fail(&entry.path, describe(&e)))?;
    let status = response.status();
    let (start, total) = match status {
        StatusCode::PARTIAL_CONTENT if have > 0 => (have, range_total(&response)),
        StatusCode::OK => (0, response.content_length()),
        StatusCode::RANGE_NOT_SATISFIABLE if have > 0 => {
            // The partial file is not a prefix of this object: start over.
            std::fs::remove_file(&part).map_err(|e| fail(&entry.path, format!("{}: {e}", part.display())))?;
            return fetch(service, entry, root, overwrite, progress);
        }
        _ => {
            let text = response.text().unwrap_or_default();
            let answer = format!("{status}: {}", text.trim());
            if expired(status) {
                return Ok(Fetched::Expired(answer));
            }
            return Err(fail(&entry.path, format!("the storage answered {answer}")));
        }
    };
    let md5 = md5_of_goog_hash(response.headers().get_all("x-goog-hash").iter().filter_map(|v| v.to_str().ok()));
    if let Some(done) = already_complete(entry, &target, total, md5, overwrite)? {
        let _ = std::fs::remove_file(&part);
        progress.grow(done.bytes);
        progress.advance(done.bytes);
        progress.done(&indicatif::ProgressBar::hidden(), &done);
        return Ok(Fetched::Done(done));
    }
    if let Some(parent) = part.parent() {
        std::fs::create_dir_all(parent).map_err(|e| fail(&entry.path, format!("{}: {e}", parent.display())))?;
    }
    let mut file = if start > 0 { OpenOptions::new().append(true).open(&part) } else { File::create(&part) }
        .map_err(|e| fail(&entry.path, format!("{}: {e}", part.display())))?;
    let bar = progress.file(&entry.path, total.unwrap_or(0), start);
    progress.grow(total.unwrap_or(0));
    progress.advance(start);
    let copied = std::io::copy(&mut progress.counting(&bar, &mut response), &mut file);
    let synced = file.flush().and_then(|_| file.sync_all());
    let written = std::fs::metadata(&part).map_or(0, |m| m.len());
    let of = total.map_or(String::new(), |t| format!(" of {t}"));
    if let Err(e) = copied.and(synced.map(|_| 0)) {
        bar.finish_and_clear();
        return Err(fail(&entry.path, format!("stopped after {written}{of} bytes ({e}); run again to resume")));
    }
    if total.is_some_and(|t| t != written) {
        bar.finish_and_clear();
        return Err(fail(&entry.path, format!("stopped after {written}{of} bytes; run again to resume")));
    }
    if let Some(expected) = md5 {
        let got = md5_of_file(&part).map_err(|e| fail(&entry.path, format!("{}: {e}", part.display())))?;
        if got != expected {
            let _ = std::fs::remove_file(&part);
            progress.undo(&bar);
            if start > 0 {
                // What an earlier run left was not a prefix of this object: once more, whole.
                return fetch(service, entry, root, overwrite, progress);
            }
            return Err(fail(
                &entry.path,
                "its MD5 differs from the storage's x-goog-hash; the partial file was removed",
            ));
        }
    }
    std::fs::rename(&part, &target).map_err(|e| fail(&entry.path, format!("{}: {e}", target.display())))?;
    // The bytes this run moved (a resumed file's earlier part came before).
    let how = if start > 0 { "resumed" } else { "downloaded" };
    let done = Moved { path: entry.path.clone(), bytes: written - start, how };
    progress.done(&bar, &done);
    Ok(Fetched::Done(done))
}

/// `Some` when `target` already holds the object (same size, and same MD5 when known); an error
/// when it holds something else and `overwrite` is off.
fn already_complete(
    entry: &Listed,
    target: &Path,
    total: Option<u64>,
    md5: Option<[u8; 16]>,
    overwrite: bool,
) -> Result<Option<Moved>, TransferError> {
    let Ok(meta) = std::fs::symlink_metadata(target) else { return Ok(None) };
    if !meta.is_file() {
        return Err(fail(&entry.path, format!("{} exists and is not a regular file", target.display())));
    }
    let same_size = total == Some(meta.len());
    let same_sum = match md5 {
        Some(expected) if same_size => {
            md5_of_file(target).map_err(|e| fail(&entry.path, format!("{}: {e}", target.display())))? == expected
        }
        _ => same_size,
    };
    if same_sum {
        return Ok(Some(Moved { path: entry.path.clone(), bytes: meta.len(), how: "skipped" }));
    }
    if overwrite {
        return Ok(None);
    }
    let there = total.map_or("an unknown size".to_string(), |t| format!("{t} bytes"));
    Err(fail(
        &entry.path,
        format!(
            "{} exists and differs from the run's ({} bytes here, {there} there); overwrite: true replaces it",
            target.display(),
            meta.len()
        ),
    ))
}
