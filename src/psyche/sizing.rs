//! Transaction sizing: knows the serialized size of a legacy transaction and splits a change
//! into as few transactions as fit the 1,232-byte packet, in an order valid on chain.

use crate::psyche::config::{CoordinatorConfig, CoordinatorProgress, RunMetadata};
use crate::psyche::model::Model;
use solana_sdk::instruction::Instruction;
use solana_sdk::message::Message;
use solana_sdk::pubkey::Pubkey;

/// Largest serialized transaction a cluster accepts.
pub const MAX_TRANSACTION_SIZE: usize = 1232;

/// Serialized size of a legacy transaction carrying `instructions`, signatures included.
pub fn transaction_size(instructions: &[Instruction], payer: &Pubkey) -> usize {
    let message = Message::new(instructions, Some(payer));
    let signatures = usize::from(message.header.num_required_signatures);
    short_vec_len(signatures) + 64 * signatures + message.serialize().len()
}

fn short_vec_len(n: usize) -> usize {
    match n {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        _ => 3,
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{what} alone needs a {size}-byte transaction, over the {MAX_TRANSACTION_SIZE}-byte limit")]
pub struct TooLarge {
    pub what: String,
    pub size: usize,
}

/// Greedily packs `steps` (each one or more instructions that must stay together) into
/// transactions, keeping their order.
pub fn pack(steps: Vec<Step>, payer: &Pubkey) -> Result<Vec<Vec<Instruction>>, TooLarge> {
    let mut out: Vec<Vec<Instruction>> = Vec::new();
    let mut current: Vec<Instruction> = Vec::new();
    for step in steps {
        let alone = transaction_size(&step.instructions, payer);
        if alone > MAX_TRANSACTION_SIZE {
            return Err(TooLarge { what: step.what, size: alone });
        }
        let mut candidate = current.clone();
        candidate.extend(step.instructions.iter().cloned());
        if !current.is_empty() && transaction_size(&candidate, payer) > MAX_TRANSACTION_SIZE {
            out.push(std::mem::take(&mut current));
            current = step.instructions;
        } else {
            current = candidate;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// Instructions that must land in the same transaction, with a label for errors and plans.
#[derive(Debug, Clone)]
pub struct Step {
    pub what: String,
    pub instructions: Vec<Instruction>,
}

/// A change to a run, in operator terms; every part is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunChange {
    pub metadata: Option<RunMetadata>,
    pub config: Option<CoordinatorConfig>,
    pub model: Option<Model>,
    pub progress: Option<CoordinatorProgress>,
    pub earning_rate: Option<u64>,
    pub slashing_rate: Option<u64>,
    pub paused: Option<bool>,
    pub client_version: Option<String>,
}

/// The parts of a change, in the order they can be applied: a pause first (so updates that need
/// a halted run follow it), a resume last (so a client version, which also needs a halted run,
/// lands before it).
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Pause,
    Update(Box<UpdatePart>),
    Rates { earning: Option<u64>, slashing: Option<u64> },
    ClientVersion(String),
    Resume,
}

/// The `update` part of a change: every field optional, but at least one present.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdatePart {
    pub metadata: Option<RunMetadata>,
    pub config: Option<CoordinatorConfig>,
    pub model: Option<Model>,
    pub progress: Option<CoordinatorProgress>,
}

impl Part {
    /// Where the treasurer's `run_update` applies this part; one `run_update` can carry several
    /// parts only when they appear in this order.
    pub fn treasurer_rank(&self) -> u8 {
        match self {
            Part::Update(_) => 0,
            Part::Rates { .. } => 1,
            Part::Pause | Part::Resume => 2,
            Part::ClientVersion(_) => 3,
        }
    }
}

impl RunChange {
    pub fn is_empty(&self) -> bool {
        *self == RunChange::default()
    }

    pub fn parts(&self) -> Vec<Part> {
        let mut parts = Vec::new();
        if self.paused == Some(true) {
            parts.push(Part::Pause);
        }
        if self.metadata.is_some() || self.config.is_some() || self.model.is_some() || self.progress.is_some() {
            parts.push(Part::Update(Box::new(UpdatePart {
                metadata: self.metadata.clone(),
                config: self.config,
                model: self.model.clone(),
                progress: self.progress,
            })));
        }
        if self.earning_rate.is_some() || self.slashing_rate.is_some() {
            parts.push(Part::Rates { earning: self.earning_rate, slashing: self.slashing_rate });
        }
        if let Some(version) = &self.client_version {
            parts.push(Part::ClientVersion(version.clone()));
        }
        if self.paused == Some(false) {
            parts.push(Part::Resume);
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_comes_after_client_version_and_pause_before_updates() {
        let change = RunChange {
            paused: Some(false),
            client_version: Some("v2".into()),
            earning_rate: Some(1),
            ..Default::default()
        };
        let ranks: Vec<_> = change.parts().iter().map(Part::treasurer_rank).collect();
        assert_eq!(ranks, [1, 3, 2]);
        let change = RunChange { paused: Some(true), config: Some(Default::default()), ..Default::default() };
        assert!(matches!(change.parts()[0], Part::Pause));
    }
}
