//! The file boundary: the one place host functions read files a runbook names (users lists,
//! run configs, modules, run data). A path is taken relative to the runbook's folder (or, when
//! no such file is there, the working directory) and read only when, with every symlink
//! followed, it lies under a read root: the runbook's folder, the working directory, or a folder
//! listed in `read_roots` under `[files]` in `psyche-runbook.toml`. Key files are never data:
//! the signer files the engine knows of, its own localnet folder, and any file whose content is
//! a keypair or a seed phrase are refused whatever the roots say.

use crate::secrets::key_material::{is_seed_phrase, keypair_bytes};
use std::path::{Path, PathBuf};

/// The setting that widens the boundary, as errors name it.
pub const READ_ROOTS_SETTING: &str = "read_roots under [files] in psyche-runbook.toml";

/// A folder files may be read from, and why.
#[derive(Debug, Clone)]
struct Root {
    /// Canonical (symlinks resolved).
    path: PathBuf,
    /// Why it is a root ("the runbook's folder and the working directory").
    origin: String,
}

/// Which files runbooks may read. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct FileBoundary {
    /// Relative paths are looked up here first.
    base_dir: PathBuf,
    roots: Vec<Root>,
    /// Canonical paths (files or folders) never read as data.
    denied: Vec<PathBuf>,
}

/// A file the boundary refused or could not read; the message names the file as given, never
/// its content.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

impl FileBoundary {
    /// The boundary of a runbook in `base_dir`, with the operator's `read_roots` (absolute) and
    /// the key files and folders the engine knows of (`denied`).
    pub fn new(base_dir: &Path, read_roots: &[PathBuf], denied: &[PathBuf]) -> Self {
        let mut roots = Vec::new();
        let mut add = |path: &Path, origin: &str| {
            let Ok(path) = std::fs::canonicalize(path) else { return };
            match roots.iter_mut().find(|r: &&mut Root| r.path == path) {
                Some(same) => same.origin = format!("{} and {origin}", same.origin),
                None => roots.push(Root { path, origin: origin.to_string() }),
            }
        };
        add(if base_dir.as_os_str().is_empty() { Path::new(".") } else { base_dir }, "the runbook's folder");
        add(Path::new("."), "the working directory");
        for root in read_roots {
            add(root, "read_roots");
        }
        // A localnet folder or payer not created yet is denied at the path it will have.
        let denied =
            denied.iter().filter_map(|p| std::fs::canonicalize(p).or_else(|_| std::path::absolute(p)).ok()).collect();
        Self { base_dir: base_dir.to_path_buf(), roots, denied }
    }

    /// Where `path`, as a runbook gave it, leads: relative to the runbook's folder when the file
    /// is there, else as given (the working directory). Refused outside the read roots and for
    /// the engine's key files and state. For a caller that opens the file itself; `read_text`
    /// and `read_bytes` also refuse keys by their content.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, FileError> {
        let file = self.within_roots(path, &self.candidate(path))?;
        self.not_denied(path, &file, "data")?;
        Ok(file)
    }

    fn candidate(&self, path: &str) -> PathBuf {
        let given = Path::new(path);
        let beside = self.base_dir.join(given);
        if given.is_relative() && beside.exists() { beside } else { given.to_path_buf() }
    }

    /// `candidate` (already joined to its folder, named `shown` in errors) when it lies under a
    /// read root once every symlink and `..` is followed.
    fn within_roots(&self, shown: &str, candidate: &Path) -> Result<PathBuf, FileError> {
        let real = std::fs::canonicalize(candidate).map_err(|e| FileError(format!("{shown}: {e}")))?;
        if self.roots.iter().any(|root| real.starts_with(&root.path)) {
            return Ok(candidate.to_path_buf());
        }
        let allowed: Vec<String> = self.roots.iter().map(|r| format!("{} ({})", r.path.display(), r.origin)).collect();
        let how = if candidate.is_symlink() || real != std::path::absolute(candidate).unwrap_or_default() {
            " (through a symlink or `..`)"
        } else {
            ""
        };
        Err(FileError(format!(
            "{shown} leads outside the folders runbooks may read{how}: {}; to allow its folder, add it to {READ_ROOTS_SETTING}",
            allowed.join(", ")
        )))
    }

    /// Refuses the signer files and the localnet folder the engine knows of.
    fn not_denied(&self, shown: &str, file: &Path, what: &str) -> Result<(), FileError> {
        let real = std::fs::canonicalize(file).map_err(|e| FileError(format!("{shown}: {e}")))?;
        if self.denied.iter().any(|d| real.starts_with(d)) {
            return Err(FileError(format!("{shown} is the engine's own key or state file, not {what}")));
        }
        Ok(())
    }

    /// The text of the data file `path` (`what` it should be, for errors: "a list of users"),
    /// with the path it was read from. Key files are refused by name.
    pub fn read_text(&self, path: &str, what: &str) -> Result<(PathBuf, String), FileError> {
        let file = self.candidate(path);
        let text = self.read_text_from(path, &file, what)?;
        Ok((file, text))
    }

    /// `read_text` of a path already joined to its folder (a module beside its importer).
    pub fn read_text_from(&self, shown: &str, candidate: &Path, what: &str) -> Result<String, FileError> {
        let file = self.within_roots(shown, candidate)?;
        let text = read_text_at(&file, shown, what)?;
        self.not_denied(shown, &file, what)?;
        Ok(text)
    }

    /// The bytes of the data file `path` (run data), refused like `read_text` when they are a key.
    pub fn read_bytes(&self, path: &str, what: &str) -> Result<(PathBuf, Vec<u8>), FileError> {
        let file = self.within_roots(path, &self.candidate(path))?;
        let bytes = std::fs::read(&file).map_err(|e| FileError(format!("{path}: {e}")))?;
        let as_key = std::str::from_utf8(&bytes).ok().is_some_and(|t| keypair_bytes(t).is_some())
            || solana_sdk::signature::Keypair::try_from(bytes.as_slice()).is_ok();
        if as_key {
            return Err(FileError(format!("{path} is a keypair file, not {what}")));
        }
        self.not_denied(path, &file, what)?;
        Ok((file, bytes))
    }
}

/// Reads `file` as text for `what`, refusing keypairs and seed phrases by name (`shown`).
pub fn read_text_at(file: &Path, shown: &str, what: &str) -> Result<String, FileError> {
    let text = std::fs::read_to_string(file).map_err(|e| FileError(format!("{shown}: {e}")))?;
    if keypair_bytes(&text).is_some() {
        return Err(FileError(format!("{shown} is a keypair file, not {what}")));
    }
    if is_seed_phrase(&text) {
        return Err(FileError(format!("{shown} holds a seed phrase, not {what}")));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_outside_the_roots_and_key_files_are_refused() {
        let inside = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "hidden").unwrap();
        std::fs::write(inside.path().join("users.txt"), "x").unwrap();
        std::fs::write(inside.path().join("key.json"), serde_json::to_string(&[7u8; 64].to_vec()).unwrap()).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), inside.path().join("link.txt")).unwrap();
        let boundary = FileBoundary::new(inside.path(), &[], &[]);
        assert!(boundary.read_text("users.txt", "a list of users").is_ok());
        let refused = |path: &str| boundary.read_text(path, "a list of users").unwrap_err().0;
        let outside_file = outside.path().join("secret.txt");
        assert!(refused(outside_file.to_str().unwrap()).contains(READ_ROOTS_SETTING));
        #[cfg(unix)]
        assert!(refused("link.txt").contains("through a symlink"), "{}", refused("link.txt"));
        assert_eq!(refused("key.json"), "key.json is a keypair file, not a list of users");
        let widened = FileBoundary::new(inside.path(), &[outside.path().to_path_buf()], &[]);
        assert_eq!(widened.read_text(outside_file.to_str().unwrap(), "data").unwrap().1, "hidden");
        let denied = FileBoundary::new(inside.path(), &[], &[inside.path().join("users.txt")]);
        let refused = denied.read_text("users.txt", "a list of users").unwrap_err().0;
        assert_eq!(refused, "users.txt is the engine's own key or state file, not a list of users");
        assert!(denied.resolve("users.txt").is_err());
    }

    #[test]
    fn run_data_is_read_as_bytes_unless_it_is_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let keypair = solana_sdk::signature::Keypair::new();
        std::fs::write(dir.path().join("raw.key"), keypair.to_bytes()).unwrap();
        std::fs::write(dir.path().join("data.bin"), [0u8, 159, 146, 150]).unwrap();
        let boundary = FileBoundary::new(dir.path(), &[], &[]);
        assert_eq!(boundary.read_bytes("data.bin", "run data").unwrap().1, vec![0, 159, 146, 150]);
        assert_eq!(boundary.resolve("data.bin").unwrap(), dir.path().join("data.bin"));
        assert_eq!(
            boundary.read_bytes("raw.key", "run data").unwrap_err().0,
            "raw.key is a keypair file, not run data"
        );
        assert!(boundary.resolve("/etc/hostname").is_err() || !Path::new("/etc/hostname").exists());
    }
}
