//! The run's `[model]`: upstream's `Model` enum with every variant, in the three encodings it
//! travels in — TOML/JSON (serde, externally tagged like upstream), Borsh (instruction
//! arguments, u8 tags) and the zero-copy account layout (see `accounts::model_layout`).

use crate::psyche::fixed::FixedString;
use anchor_lang::{AnchorDeserialize, AnchorSerialize};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
#[serde(deny_unknown_fields)]
pub enum Model {
    LLM(Llm),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Llm {
    pub max_seq_len: u32,
    pub cold_start_warmup_steps: u32,
    pub architecture: Architecture,
    pub checkpoint: Checkpoint,
    pub data_type: DataType,
    pub data_location: DataLocation,
    pub lr_schedule: LrSchedule,
    pub optimizer: Optimizer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
pub enum Architecture {
    HfLlama,
    HfDeepseek,
    HfAuto,
    Torchtitan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
pub enum DataType {
    Pretraining,
    Finetuning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
pub enum Checkpoint {
    Ephemeral,
    Dummy(HubRepo),
    Hub(HubRepo),
    P2P(HubRepo),
    Gcs(GcsRepo),
    P2PGcs(GcsRepo),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
#[serde(deny_unknown_fields)]
pub struct HubRepo {
    pub repo_id: FixedString<64>,
    #[serde(default)]
    pub revision: Option<FixedString<64>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
#[serde(deny_unknown_fields)]
pub struct GcsRepo {
    pub bucket: FixedString<64>,
    #[serde(default)]
    pub prefix: Option<FixedString<64>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
pub enum DataLocation {
    Dummy,
    Server(FixedString<64>),
    Local(FixedString<192>),
    Http(HttpDataLocation),
    WeightedHttp(FixedString<192>),
    Preprocessed(FixedString<192>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpDataLocation {
    pub location: HttpLocation,
    pub token_size_in_bytes: TokenSize,
    pub shuffle: Shuffle,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
pub enum HttpLocation {
    SingleUrl(FixedString<192>),
    NumberedFiles { url_template: FixedString<64>, start_index: u32, n_left_pad_zeros: u8, num_files: u32 },
    Gcp { bucket_name: FixedString<64>, filter_directory: FixedString<192> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
pub enum TokenSize {
    TwoBytes,
    FourBytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
pub enum Shuffle {
    DontShuffle,
    Seeded([u8; 32]),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
pub enum LrSchedule {
    Constant {
        base_lr: f64,
        warmup_init_lr: f64,
        warmup_steps: u32,
    },
    Linear {
        base_lr: f64,
        warmup_init_lr: f64,
        final_lr: f64,
        warmup_steps: u32,
        total_steps: u32,
    },
    Cosine {
        base_lr: f64,
        warmup_init_lr: f64,
        final_lr: f64,
        warmup_steps: u32,
        total_steps: u32,
    },
    WarmupStableDecay {
        base_lr: f64,
        warmup_init_lr: f64,
        cosine_decay_final_lr: f64,
        linear_decay_final_lr: f64,
        warmup_steps: u32,
        stable_steps: u32,
        cosine_decay_steps: u32,
        linear_decay_steps: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AnchorSerialize, AnchorDeserialize)]
pub enum Optimizer {
    Dummy,
    AdamW {
        betas: [f32; 2],
        weight_decay: f32,
        eps: f32,
        #[serde(default)]
        clip_grad_norm: Option<f32>,
    },
    Distro {
        #[serde(default)]
        clip_grad_norm: Option<f32>,
        #[serde(default)]
        weight_decay: Option<f32>,
        compression_decay: f32,
        compression_topk: u16,
        compression_chunk: u16,
        quantize_1bit: bool,
    },
}

impl Model {
    pub fn llm(&self) -> &Llm {
        let Model::LLM(llm) = self;
        llm
    }

    /// True when `self` (read from chain) is `configured` up to the coordinator's checkpoint
    /// rewrites (see `Checkpoint::as_configured`).
    pub fn matches_configured(&self, configured: &Model) -> bool {
        let mut chain = self.clone();
        let mut wanted = configured.clone();
        chain.llm_mut().checkpoint = chain.llm().checkpoint.as_configured();
        wanted.llm_mut().checkpoint = wanted.llm().checkpoint.as_configured();
        chain == wanted
    }

    pub fn llm_mut(&mut self) -> &mut Llm {
        let Model::LLM(llm) = self;
        llm
    }
}

impl Checkpoint {
    /// The checkpoint with the coordinator's own rewrites undone: at each epoch end it turns
    /// Hub into P2P (and Gcs into P2PGcs), and back when a new set of clients starts. For
    /// deciding whether an operator's config is already on chain, those are the same.
    pub fn as_configured(&self) -> Checkpoint {
        match self {
            Checkpoint::P2P(h) => Checkpoint::Hub(h.clone()),
            Checkpoint::P2PGcs(g) => Checkpoint::Gcs(g.clone()),
            other => other.clone(),
        }
    }

    pub fn variant_name(&self) -> &'static str {
        match self {
            Checkpoint::Ephemeral => "Ephemeral",
            Checkpoint::Dummy(_) => "Dummy",
            Checkpoint::Hub(_) => "Hub",
            Checkpoint::P2P(_) => "P2P",
            Checkpoint::Gcs(_) => "Gcs",
            Checkpoint::P2PGcs(_) => "P2PGcs",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spec 3.7: LLM::dummy with a Hub checkpoint and no revision is 100 Borsh bytes.
    #[test]
    fn dummy_llm_with_hub_checkpoint_is_100_bytes() {
        let model = Model::LLM(Llm {
            max_seq_len: 2048,
            cold_start_warmup_steps: 0,
            architecture: Architecture::HfLlama,
            checkpoint: Checkpoint::Hub(HubRepo { repo_id: FixedString::new("dummy").unwrap(), revision: None }),
            data_type: DataType::Pretraining,
            data_location: DataLocation::Dummy,
            lr_schedule: LrSchedule::Constant { base_lr: 1e-4, warmup_init_lr: 0.0, warmup_steps: 1 },
            optimizer: Optimizer::Dummy,
        });
        assert_eq!(crate::psyche::encoding::borsh_bytes(&model).len(), 100);
    }
}
