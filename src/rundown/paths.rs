//! Paths between the service and the disk. A path the service lists must stay inside the output
//! directory: relative, made of plain names (no `..`, no `.`, no empty parts, no backslashes),
//! and not reaching through a symlink already on disk. Upload names are the files' paths
//! relative to what was given, with `/` between parts.

use std::path::{Component, Path, PathBuf};

/// Why `listed` may not be written under `root`, if it may not.
pub fn refusal(root: &Path, listed: &str) -> Option<String> {
    if listed.is_empty() {
        return Some("is empty".into());
    }
    if listed.starts_with('/') || Path::new(listed).is_absolute() {
        return Some("is absolute".into());
    }
    if listed.contains('\\') || listed.contains('\0') {
        return Some("contains a backslash or NUL".into());
    }
    for part in listed.split('/') {
        match part {
            "" => return Some("has an empty part".into()),
            "." | ".." => return Some(format!("has a `{part}` part")),
            _ => {}
        }
    }
    // Every prefix that exists must be a real directory (the last part a real file), or the
    // write would land where the link points.
    let mut at = root.to_path_buf();
    for part in listed.split('/') {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Some(format!("goes through the symlink {}", at.display()));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    None
}

/// Where `listed` (already accepted by `refusal`) is written under `root`.
pub fn local(root: &Path, listed: &str) -> PathBuf {
    listed.split('/').fold(root.to_path_buf(), |path, part| path.join(part))
}

/// The partial download of `file`, beside it: a hidden name that never looks like a result.
pub fn partial(file: &Path) -> PathBuf {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    file.with_file_name(format!(".{name}.part"))
}

/// The upload name of `file` under `base`: its relative path with `/` separators, or why it
/// has none (a name that is not UTF-8).
pub fn upload_name(base: &Path, file: &Path) -> Result<String, String> {
    let relative = file.strip_prefix(base).unwrap_or(file);
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => {
                parts.push(part.to_str().ok_or_else(|| format!("{}: the name is not UTF-8", file.display()))?)
            }
            _ => return Err(format!("{}: not a plain relative path", file.display())),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_paths_that_escape_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        assert_eq!(refusal(r, "a/b.bin"), None);
        assert_eq!(refusal(r, "/etc/passwd").as_deref(), Some("is absolute"));
        assert_eq!(refusal(r, "../x").as_deref(), Some("has a `..` part"));
        assert_eq!(refusal(r, "a/../../x").as_deref(), Some("has a `..` part"));
        assert_eq!(refusal(r, "a//x").as_deref(), Some("has an empty part"));
        assert_eq!(refusal(r, "a\\..\\x").as_deref(), Some("contains a backslash or NUL"));
        std::os::unix::fs::symlink("/tmp", r.join("link")).unwrap();
        assert!(refusal(r, "link/x").unwrap().starts_with("goes through the symlink"));
        assert_eq!(local(r, "a/b.bin"), r.join("a").join("b.bin"));
        assert_eq!(partial(&r.join("a/b.bin")), r.join("a/.b.bin.part"));
        assert_eq!(upload_name(r, &r.join("a").join("b.bin")).unwrap(), "a/b.bin");
    }
}
