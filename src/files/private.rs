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
}
