//! Uploading a file, or a directory walked recursively, to a run: each file gets its own signed
//! URL (named by its path relative to what was given) and is PUT as
//! `application/octet-stream`, streamed from disk. A URL the storage no longer accepts is asked
//! for again once.

use crate::rundown::paths::upload_name;
use crate::rundown::progress::Progress;
use crate::rundown::service::{Service, describe};
use crate::rundown::{Moved, TransferError};
use std::fs::File;
use std::path::{Path, PathBuf};

/// A file to upload: where it is, the name the service gets, its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: PathBuf,
    pub name: String,
    pub bytes: u64,
}

/// Every file under `path` (or `path` itself), in name order, with its upload name; symlinks
/// are not followed (they are reported through `skipped`). Nothing is sent.
pub fn sources(path: &Path, skipped: &mut dyn FnMut(&Path)) -> Result<Vec<Source>, TransferError> {
    let meta = std::fs::metadata(path).map_err(|e| TransferError::before(format!("{}: {e}", path.display())))?;
    let (base, files) = if meta.is_file() {
        (path.parent().map(Path::to_path_buf).unwrap_or_default(), vec![path.to_path_buf()])
    } else {
        let mut files = Vec::new();
        walk(path, &mut files, skipped)?;
        (path.to_path_buf(), files)
    };
    files
        .into_iter()
        .map(|file| {
            let name = upload_name(&base, &file).map_err(TransferError::before)?;
            let bytes =
                std::fs::metadata(&file).map_err(|e| TransferError::before(format!("{}: {e}", file.display())))?.len();
            Ok(Source { file, name, bytes })
        })
        .collect()
}

/// Collects the regular files under `dir`, sorted, depth first.
fn walk(dir: &Path, files: &mut Vec<PathBuf>, skipped: &mut dyn FnMut(&Path)) -> Result<(), TransferError> {
    let read = std::fs::read_dir(dir).map_err(|e| TransferError::before(format!("{}: {e}", dir.display())))?;
    let mut entries: Vec<_> =
        read.collect::<Result<_, _>>().map_err(|e| TransferError::before(format!("{}: {e}", dir.display())))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let kind = entry.file_type().map_err(|e| TransferError::before(format!("{}: {e}", entry.path().display())))?;
        if kind.is_dir() {
            walk(&entry.path(), files, skipped)?;
        } else if kind.is_file() {
            files.push(entry.path());
        } else {
            skipped(&entry.path());
        }
    }
    Ok(())
}

/// The one place upload bytes are read from disk: the file and its size now.
fn open_source(source: &Source) -> Result<(File, u64), TransferError> {
    let fail = |e: std::io::Error| TransferError::after(format!("{}: {e}", source.file.display()));
    let file = File::open(&source.file).map_err(fail)?;
    let bytes = file.metadata().map_err(fail)?.len();
    Ok((file, bytes))
}

/// True for answers a storage gives a signed URL past its expiry (or otherwise no longer valid).
pub fn expired(status: reqwest::StatusCode) -> bool {
    matches!(status.as_u16(), 400 | 401 | 403)
}

/// Uploads `sources` in order; stops at the first failure.
pub fn upload(service: &Service, sources: &[Source], progress: &Progress) -> Result<Vec<Moved>, TransferError> {
    let mut moved = Vec::new();
    for source in sources {
        let mut signed = service.upload_url(&source.name)?;
        let mut asked_again = false;
        loop {
            let (file, bytes) = open_source(source)?;
            let bar = progress.file(&source.name, bytes, 0);
            let body = reqwest::blocking::Body::sized(progress.counting(&bar, file), bytes);
            let response = service
                .http
                .put(&signed.url)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(body)
                .send()
                .map_err(|e| TransferError::after(format!("uploading {}: {}", source.name, describe(&e))))?;
            let status = response.status();
            if status.is_success() {
                let done = Moved { path: source.name.clone(), bytes, how: "uploaded" };
                progress.done(&bar, &done);
                moved.push(done);
                break;
            }
            progress.undo(&bar);
            let text = response.text().unwrap_or_default();
            if expired(status) && !asked_again {
                asked_again = true;
                signed = service.upload_url(&source.name)?;
                continue;
            }
            let again = if asked_again {
                format!(" to a fresh URL (the service said it was valid until {})", signed.expires_at)
            } else {
                String::new()
            };
            return Err(TransferError::after(format!(
                "uploading {}: the storage answered{again} {status}: {}",
                source.name,
                text.trim()
            )));
        }
    }
    Ok(moved)
}
