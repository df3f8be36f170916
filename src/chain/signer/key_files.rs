//! Keys in files and variables, as Solana tools write them: a JSON array of 64 bytes or base58.
//! A file readable by others is warned about; generated keys are written only their owner's.

use solana_sdk::signature::Keypair;
use std::path::{Path, PathBuf};

/// Expands a leading `~/` the way shells and the Solana CLI config do.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// A secret as text: a JSON byte array (`[12, 34, …]`) or base58.
pub fn keypair_from_secret(text: &str) -> Result<Keypair, String> {
    let text = text.trim();
    if text.starts_with('[') {
        // serde's message may quote the text; only where it broke is said.
        let bytes: Vec<u8> = serde_json::from_str(text)
            .map_err(|e| format!("not a JSON array of 64 bytes (at line {}, column {})", e.line(), e.column()))?;
        Keypair::try_from(bytes.as_slice()).map_err(|e| format!("not a valid 64-byte keypair: {e}"))
    } else {
        let bytes = bs58::decode(text).into_vec().map_err(|_| "not base58 (nor a JSON byte array)".to_string())?;
        Keypair::try_from(bytes.as_slice()).map_err(|e| format!("not a valid 64-byte keypair: {e}"))
    }
}

pub fn read_keypair_file(path: &Path, warn: &mut dyn FnMut(String)) -> Result<Keypair, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("keypair file {}: {e}", path.display()))?;
    warn_if_readable_by_others(path, warn);
    keypair_from_secret(&text).map_err(|e| format!("keypair file {}: {e}", path.display()))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path, warn: &mut dyn FnMut(String)) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            warn(format!(
                "keypair file {} is readable by group or others (mode {mode:o}); run: chmod 600 {}",
                path.display(),
                path.display()
            ));
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path, _: &mut dyn FnMut(String)) {}

pub fn keypair_json(keypair: &Keypair) -> String {
    serde_json::to_string(&keypair.to_bytes().to_vec()).expect("a byte array serializes")
}

/// Writes `contents` to a new file only the owner can read, via a temp file and rename.
pub fn write_private_file(path: &Path, contents: &str) -> Result<(), String> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    crate::files::private::private_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    crate::files::private::write_atomic(path, contents.as_bytes(), crate::files::private::Readers::Owner)
        .map_err(|e| format!("{}: {e}", path.display()))
}
