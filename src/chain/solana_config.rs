//! The Solana CLI's `config.yml` (`~/.config/solana/cli/config.yml` by default), the last
//! fallback for the RPC URL, keypair and commitment. Only keys present in the file count: a
//! missing key never turns into the Solana CLI's mainnet default.

use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct SolanaConfig {
    pub json_rpc_url: Option<String>,
    pub websocket_url: Option<String>,
    pub keypair_path: Option<String>,
    pub commitment: Option<String>,
}

/// `~/.config/solana/cli/config.yml`, when a home directory is known.
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config/solana/cli/config.yml"))
}

impl SolanaConfig {
    /// Reads `path`; a missing file is an empty config, a malformed one an error.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(err) => return Err(format!("{}: {err}", path.display())),
        };
        let mut config: Self = serde_yaml::from_str(&text).map_err(|err| format!("{}: {err}", path.display()))?;
        // The Solana CLI writes empty strings for unset values.
        for field in
            [&mut config.json_rpc_url, &mut config.websocket_url, &mut config.keypair_path, &mut config.commitment]
        {
            if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *field = None;
            }
        }
        Ok(config)
    }
}
