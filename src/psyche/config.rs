//! The run config (`config.toml`): `[config]` and `[model]`, plus the metadata and progress
//! types that travel next to them in `update`. Checks live in `checks.rs`.

use crate::files::boundary::read_text_at;
use crate::psyche::fixed::FixedString;
use crate::psyche::model::Model;
use crate::secrets::key_material::scrub;
use anchor_lang::{AnchorDeserialize, AnchorSerialize};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `CoordinatorConfig`: 64 bytes both as Borsh and in the account, fields in upstream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorConfig {
    pub warmup_time: u64,
    pub cooldown_time: u64,
    pub max_round_train_time: u64,
    pub round_witness_time: u64,
    pub global_batch_size_warmup_tokens: u64,
    pub epoch_time: u64,
    pub total_steps: u32,
    pub init_min_clients: u16,
    pub min_clients: u16,
    pub witness_nodes: u16,
    pub global_batch_size_start: u16,
    pub global_batch_size_end: u16,
    pub verification_percent: u8,
    pub waiting_for_members_extra_time: u8,
}

impl CoordinatorConfig {
    /// The global batch size after `tokens` have been trained on: `global_batch_size_start`
    /// growing linearly to `global_batch_size_end` over `global_batch_size_warmup_tokens`
    /// (rounded), as the coordinator computes it.
    pub fn batch_size(&self, tokens: u64) -> u16 {
        if tokens >= self.global_batch_size_warmup_tokens {
            return self.global_batch_size_end;
        }
        let progress = tokens as f64 / self.global_batch_size_warmup_tokens as f64;
        let (start, end) = (f64::from(self.global_batch_size_start), f64::from(self.global_batch_size_end));
        (start + (end - start) * progress).round() as u16
    }

    /// The data index training starts at for `step` (the sum of the batch sizes of the steps
    /// before it), for restarting a run at a step; 0 for steps outside 2..=total_steps.
    pub fn data_index_for_step(&self, step: u32, max_seq_len: u32) -> u64 {
        if step <= 1 || step > self.total_steps {
            return 0;
        }
        (1..step).fold(0u64, |index, _| index + u64::from(self.batch_size(index * u64::from(max_seq_len))))
    }
}

/// `CoordinatorProgress`: 14 Borsh bytes, 16 in the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
pub struct CoordinatorProgress {
    pub epoch: u16,
    pub step: u32,
    pub epoch_start_data_index: u64,
}

/// `RunMetadata`: what operators and dashboards show about a run (360 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
pub struct RunMetadata {
    pub name: FixedString<64>,
    pub description: FixedString<280>,
    pub num_parameters: u64,
    pub vocab_size: u64,
}

/// A `config.toml` as upstream reads it: `config` and `model`; any other top-level key
/// (e.g. `run_id`, `run_state` in state files) is ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub config: CoordinatorConfig,
    pub model: Model,
}

/// A config file that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// Unreadable, or not a config at all (a keypair file).
    #[error("{0}")]
    Read(String),
    #[error("{location}: {message}")]
    Parse { location: String, message: String },
}

impl RunConfig {
    /// Parses a config's text; an error names `origin:line:col` and what is wrong, quoting the
    /// file only in short excerpts that cannot be key material.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ConfigFileError> {
        toml::from_str(text).map_err(|err| ConfigFileError::Parse {
            location: toml_location(origin, text, &err),
            message: scrub(err.message().trim()),
        })
    }

    /// Reads a config file the operator named (`config check`); a keypair file is refused.
    pub fn from_file(path: &Path) -> Result<Self, ConfigFileError> {
        let origin = path.display().to_string();
        let text = read_text_at(path, &origin, "a run config").map_err(|e| ConfigFileError::Read(e.0))?;
        Self::from_toml_str(&text, &origin)
    }
}

/// `FILE:LINE:COL` of a TOML error, so the operator can jump to the key.
fn toml_location(origin: &str, text: &str, err: &toml::de::Error) -> String {
    match err.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("{origin}:{line}:{col}")
        }
        None => origin.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::psyche::encoding::borsh_bytes;

    #[test]
    fn config_is_64_borsh_bytes() {
        assert_eq!(borsh_bytes(&CoordinatorConfig::default()).len(), 64);
        assert_eq!(borsh_bytes(&CoordinatorProgress::default()).len(), 14);
        assert_eq!(borsh_bytes(&RunMetadata::default()).len(), 360);
    }

    #[test]
    fn batch_size_ramps_over_the_warmup_tokens() {
        let c = CoordinatorConfig {
            global_batch_size_start: 100,
            global_batch_size_end: 200,
            global_batch_size_warmup_tokens: 1_000,
            total_steps: 10,
            ..Default::default()
        };
        assert_eq!(c.batch_size(0), 100);
        assert_eq!(c.batch_size(505), 151); // 150.5 rounds up
        assert_eq!(c.batch_size(1_000), 200);
        // Steps: index 0 (batch 100), 100 (tokens 1,000 at seq 10: batch 200), 300.
        assert_eq!(c.data_index_for_step(1, 10), 0);
        assert_eq!(c.data_index_for_step(3, 10), 300);
        assert_eq!(c.data_index_for_step(11, 10), 0);
    }

    #[test]
    fn parse_errors_point_at_the_line() {
        let err = RunConfig::from_toml_str("[config]\nwarmup_time = \"x\"\n", "c.toml").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("c.toml:2:"), "{text}");
    }
}
