//! Program IDs of Psyche's on-chain programs, and of the Solana programs we call next to them.
//!
//! Deployments differ per cluster (devnet users deploy their own copies), so every ID can be
//! overridden; `ProgramIds::default()` holds the upstream `declare_id!` values.

use serde::Deserialize;
use solana_sdk::pubkey::Pubkey;
use std::collections::BTreeMap;

pub const COORDINATOR: Pubkey = solana_sdk::pubkey!("4SHugWqSXwKE5fqDchkJcPEqnoZE22VYKtSTVm7axbT7");
pub const AUTHORIZER: Pubkey = solana_sdk::pubkey!("PsyAUmhpmiUouWsnJdNGFSX8vZ6rWjXjgDPHsgqPGyw");
pub const TREASURER: Pubkey = solana_sdk::pubkey!("EnU7DRx5az5YWxaxgqEGbXSYtudcfnjXewyBRRZCjJPw");

/// The classic SPL Token program (Psyche's treasurer uses it, not token-2022).
pub const TOKEN: Pubkey = spl_token_interface::ID;
pub const ASSOCIATED_TOKEN: Pubkey = spl_associated_token_account_interface::program::ID;
pub const SYSTEM: Pubkey = solana_system_interface::program::ID;

/// The three Psyche program IDs a cluster uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramIds {
    pub coordinator: Pubkey,
    pub authorizer: Pubkey,
    pub treasurer: Pubkey,
}

impl Default for ProgramIds {
    fn default() -> Self {
        Self { coordinator: COORDINATOR, authorizer: AUTHORIZER, treasurer: TREASURER }
    }
}

/// Optional replacements for some of the IDs, from one layer of configuration.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProgramOverrides {
    pub coordinator: Option<String>,
    pub authorizer: Option<String>,
    pub treasurer: Option<String>,
}

/// The `[programs]` table of the project config file: defaults for every cluster plus
/// `[programs.<cluster>]` sub-tables (`devnet`, `mainnet-beta`, `testnet`, `localhost`,
/// `embedded` or a URL).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(try_from = "BTreeMap<String, TableEntry>")]
pub struct ProgramsTable {
    pub all: ProgramOverrides,
    pub clusters: BTreeMap<String, ProgramOverrides>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TableEntry {
    Id(String),
    Cluster(ProgramOverrides),
}

impl TryFrom<BTreeMap<String, TableEntry>> for ProgramsTable {
    type Error = String;

    fn try_from(entries: BTreeMap<String, TableEntry>) -> Result<Self, String> {
        let mut table = Self::default();
        for (key, entry) in entries {
            match (key.as_str(), entry) {
                ("coordinator", TableEntry::Id(id)) => table.all.coordinator = Some(id),
                ("authorizer", TableEntry::Id(id)) => table.all.authorizer = Some(id),
                ("treasurer", TableEntry::Id(id)) => table.all.treasurer = Some(id),
                (_, TableEntry::Cluster(layer)) => {
                    table.clusters.insert(key, layer);
                }
                (_, TableEntry::Id(_)) => {
                    return Err(format!(
                        "unknown key `{key}` (expected coordinator, authorizer, treasurer or a cluster table)"
                    ));
                }
            }
        }
        Ok(table)
    }
}

/// An override that is not a valid pubkey.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {program} program id {value:?} is not a valid base58 pubkey")]
pub struct BadProgramId {
    pub origin: String,
    pub program: &'static str,
    pub value: String,
}

impl ProgramIds {
    /// Applies one layer of overrides; `origin` names the layer in errors
    /// (e.g. `psyche-runbook.toml [programs.devnet]`).
    pub fn apply(&mut self, layer: &ProgramOverrides, origin: &str) -> Result<(), BadProgramId> {
        let slots = [
            ("coordinator", &layer.coordinator, &mut self.coordinator),
            ("authorizer", &layer.authorizer, &mut self.authorizer),
            ("treasurer", &layer.treasurer, &mut self.treasurer),
        ];
        for (program, value, slot) in slots {
            if let Some(value) = value {
                *slot = value.trim().parse().map_err(|_| BadProgramId {
                    origin: origin.to_string(),
                    program,
                    value: value.clone(),
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_tables_sit_beside_the_defaults() {
        let table: ProgramsTable = toml::from_str(
            r#"
            coordinator = "11111111111111111111111111111112"
            [devnet]
            treasurer = "11111111111111111111111111111113"
            "#,
        )
        .unwrap();
        let mut ids = ProgramIds::default();
        ids.apply(&table.all, "test").unwrap();
        ids.apply(&table.clusters["devnet"], "test").unwrap();
        assert_eq!(ids.coordinator.to_string(), "11111111111111111111111111111112");
        assert_eq!(ids.treasurer.to_string(), "11111111111111111111111111111113");
        assert_eq!(ids.authorizer, AUTHORIZER);
    }

    #[test]
    fn a_bad_override_names_its_origin() {
        let layer = ProgramOverrides { authorizer: Some("nope".into()), ..Default::default() };
        let err = ProgramIds::default().apply(&layer, "env PSYCHE_AUTHORIZER_PROGRAM_ID").unwrap_err();
        assert_eq!(
            err.to_string(),
            "env PSYCHE_AUTHORIZER_PROGRAM_ID: authorizer program id \"nope\" is not a valid base58 pubkey"
        );
    }
}
