//! Files only their owner may read: logs, the journal, locks, localnet state and generated keys
//! are created 0600, in folders created 0700. A folder that already exists keeps its mode (it
//! may be the operator's, `--localnet-dir .`); the files in it are still 0600. On other
//! systems than Unix the platform's defaults apply.

use std::fs::{File, OpenOptions};
use std::path::Path;

/// Creates `dir` and its missing parents 0700.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Open options for a new file only the owner can read and write (0600).
pub fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Creates (or truncates) `path` 0600 for writing.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    private_options().write(true).create(true).truncate(true).open(path)
}

/// Who may read a file `write_atomic` makes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    /// Its owner alone (0600): state that names what the operator uses.
    Owner,
    /// Whoever the umask allows: files other programs read (a metrics file a collector scrapes).
    Anyone,
}

/// Writes `bytes` to `path` atomically: a temp file beside it, fsynced, then renamed over it,
/// so a crash or a full disk leaves the old file or the new one, never half of either.
pub fn write_atomic(path: &Path, bytes: &[u8], readers: Readers) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // A leading dot and another suffix: collectors that read a folder (the textfile collector's
    // `*.prom`) ignore the temp file.
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = match readers {
            Readers::Owner => create_private(&temp)?,
            Readers::Anyone => File::create(&temp)?,
        };
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        // The rename itself is durable once the directory is synced.
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn folders_are_0700_and_files_0600() {
        let root = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let fresh = root.path().join("c/d");
        private_dir(&fresh).unwrap();
        assert_eq!((mode(&fresh), mode(&root.path().join("c"))), (0o700, 0o700));
        create_private(&fresh.join("f")).unwrap();
        assert_eq!(mode(&fresh.join("f")), 0o600);
    }

    #[test]
    fn writes_atomically_over_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.prom");
        std::fs::write(&path, "old").unwrap();
        write_atomic(&path, b"new\n", Readers::Owner).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("m.prom")], "no temp file is left behind");
    }
}
