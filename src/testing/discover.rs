//! Which tests there are: `*.test.rhai` files under the paths given, and the `test_*`
//! functions (without parameters) in each.

use crate::exit::Failure;
use std::path::{Path, PathBuf};

/// The file name ending that makes a runbook a test file.
pub const SUFFIX: &str = ".test.rhai";

/// One test: a function of a test file.
#[derive(Debug, Clone)]
pub struct Case {
    pub file: PathBuf,
    pub name: String,
}

impl Case {
    /// `FILE::NAME`, as `--filter` matches and reports show it.
    pub fn id(&self) -> String {
        format!("{}::{}", self.file.display(), self.name)
    }
}

/// Every test file under `paths` (a file given by name is taken whatever its name), sorted;
/// hidden directories and `target` are not searched.
pub fn test_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_file() {
            found.push(path.clone());
        } else if path.is_dir() {
            walk(path, &mut found).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
        } else {
            return Err(Failure::usage(format!("{}: no such file or directory", path.display())));
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            if !name.starts_with('.') && name != "target" {
                walk(&path, found)?;
            }
        } else if name.ends_with(SUFFIX) {
            // `test` with no path searches `.`: its files are named from there.
            found.push(path.strip_prefix(".").map(Path::to_path_buf).unwrap_or(path));
        }
    }
    Ok(())
}

/// The tests of a compiled file, by name.
pub fn cases(file: &Path, ast: &rhai::AST) -> Vec<Case> {
    let mut names: Vec<String> = ast
        .iter_functions()
        .filter(|f| f.name.starts_with("test_") && f.params.is_empty())
        .map(|f| f.name.to_string())
        .collect();
    names.sort();
    names.dedup();
    names.into_iter().map(|name| Case { file: file.to_path_buf(), name }).collect()
}
