//! `fork.json` beside a forked localnet's database: which cluster it forks, by name and
//! genesis hash (never its URL, which only the database keeps), so that what is decided before
//! the chain is opened (the cluster's name, its `[programs.*]`/`[limits.*]` tables) knows it.

use serde::{Deserialize, Serialize};
use std::path::Path;

pub const FILE: &str = "fork.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForkFile {
    /// The forked cluster's display name (a moniker, or its URL's scheme, host and port).
    pub name: String,
    pub genesis: String,
    /// The cluster's slot when the fork was made.
    pub slot: u64,
}

impl ForkFile {
    /// The fork `localnet_dir` holds, if it holds one.
    pub fn read(localnet_dir: &Path) -> Option<Self> {
        let bytes = std::fs::read(localnet_dir.join(FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn write(&self, localnet_dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).expect("a fork file serializes");
        crate::files::private::write_atomic(&localnet_dir.join(FILE), &text, crate::files::private::Readers::Owner)
    }

    pub fn remove(localnet_dir: &Path) -> std::io::Result<()> {
        match std::fs::remove_file(localnet_dir.join(FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
