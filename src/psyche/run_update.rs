//! Turns a `RunChange` into the transactions that apply it: coordinator instructions for a
//! direct run, `run_update` CPIs for a treasurer run, packed to fit and ordered to be valid.

use crate::psyche::ids::ProgramIds;
use crate::psyche::instructions::coordinator::{
    self, OwnerAccounts, SetFutureEpochRates, SetPaused, Update, UpdateClientVersion,
};
use crate::psyche::instructions::treasurer::{self, RunUpdate, RunUpdateAccounts, RunUpdateParams};
use crate::psyche::sizing::{MAX_TRANSACTION_SIZE, Part, RunChange, Step, TooLarge, pack, transaction_size};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;

/// Who owns the coordinator: the operator directly, or a treasurer `Run` PDA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Direct,
    Treasurer { run: Pubkey },
}

pub struct Target<'a> {
    pub ids: &'a ProgramIds,
    pub owner: Owner,
    pub authority: Pubkey,
    pub coordinator_instance: Pubkey,
    pub coordinator_account: Pubkey,
}

fn part_label(part: &Part) -> &'static str {
    match part {
        Part::Pause => "pause",
        Part::Update(_) => "update",
        Part::Rates { .. } => "set future epoch rates",
        Part::ClientVersion(_) => "update client version",
        Part::Resume => "resume",
    }
}

fn direct_instruction(t: &Target, part: &Part) -> Instruction {
    let accounts = OwnerAccounts {
        authority: t.authority,
        coordinator_instance: t.coordinator_instance,
        coordinator_account: t.coordinator_account,
    };
    match part {
        Part::Pause => coordinator::instruction(t.ids, &accounts, &SetPaused { paused: true }),
        Part::Resume => coordinator::instruction(t.ids, &accounts, &SetPaused { paused: false }),
        Part::Update(u) => coordinator::instruction(
            t.ids,
            &accounts,
            &Update { metadata: u.metadata.clone(), config: u.config, model: u.model.clone(), progress: u.progress },
        ),
        Part::Rates { earning, slashing } => coordinator::instruction(
            t.ids,
            &accounts,
            &SetFutureEpochRates {
                epoch_earning_rate_total_shared: *earning,
                epoch_slashing_rate_per_client: *slashing,
            },
        ),
        Part::ClientVersion(v) => {
            coordinator::instruction(t.ids, &accounts, &UpdateClientVersion { new_version: v.clone() })
        }
    }
}

fn add_to_params(params: &mut RunUpdateParams, part: &Part) {
    match part {
        Part::Pause => params.paused = Some(true),
        Part::Resume => params.paused = Some(false),
        Part::Update(u) => {
            params.metadata = u.metadata.clone();
            params.config = u.config;
            params.model = u.model.clone();
            params.progress = u.progress;
        }
        Part::Rates { earning, slashing } => {
            params.epoch_earning_rate_total_shared = *earning;
            params.epoch_slashing_rate_per_client = *slashing;
        }
        Part::ClientVersion(v) => params.client_version = Some(v.clone()),
    }
}

fn run_update(t: &Target, run: Pubkey, parts: &[Part]) -> Instruction {
    let mut params = RunUpdateParams::default();
    for part in parts {
        add_to_params(&mut params, part);
    }
    let accounts = RunUpdateAccounts {
        authority: t.authority,
        run,
        coordinator_instance: t.coordinator_instance,
        coordinator_account: t.coordinator_account,
        coordinator_program: t.ids.coordinator,
    };
    treasurer::instruction(t.ids, &accounts, &RunUpdate { params })
}

/// Treasurer parts grouped into as few `run_update`s as keep a valid order and fit alone.
fn treasurer_steps(t: &Target, run: Pubkey, parts: &[Part], payer: &Pubkey) -> Vec<Step> {
    let mut groups: Vec<Vec<Part>> = Vec::new();
    for part in parts {
        match groups.last_mut() {
            Some(group) if group.last().is_some_and(|last| last.treasurer_rank() <= part.treasurer_rank()) => {
                group.push(part.clone())
            }
            _ => groups.push(vec![part.clone()]),
        }
    }
    let mut steps = Vec::new();
    for group in groups {
        let ix = run_update(t, run, &group);
        if transaction_size(std::slice::from_ref(&ix), payer) <= MAX_TRANSACTION_SIZE {
            let what = group.iter().map(part_label).collect::<Vec<_>>().join(" + ");
            steps.push(Step { what, instructions: vec![ix] });
        } else {
            steps.extend(group.iter().map(|part| Step {
                what: part_label(part).to_string(),
                instructions: vec![run_update(t, run, std::slice::from_ref(part))],
            }));
        }
    }
    steps
}

/// The transactions that apply `change`, each under the size limit, in a valid order.
pub fn transactions(t: &Target, change: &RunChange, payer: &Pubkey) -> Result<Vec<Vec<Instruction>>, TooLarge> {
    let parts = change.parts();
    let steps = match t.owner {
        Owner::Direct => parts
            .iter()
            .map(|part| Step { what: part_label(part).to_string(), instructions: vec![direct_instruction(t, part)] })
            .collect(),
        Owner::Treasurer { run } => treasurer_steps(t, run, &parts, payer),
    };
    pack(steps, payer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::psyche::config::RunMetadata;
    use crate::psyche::fixed::FixedString;

    /// The largest model encoding: every string field present, the widest variants.
    fn widest_model() -> crate::psyche::model::Model {
        use crate::psyche::model::*;
        let s64 = || FixedString::new("r".repeat(64)).unwrap();
        Model::LLM(Llm {
            max_seq_len: 1,
            cold_start_warmup_steps: 0,
            architecture: Architecture::HfAuto,
            checkpoint: Checkpoint::Hub(HubRepo { repo_id: s64(), revision: Some(s64()) }),
            data_type: DataType::Finetuning,
            data_location: DataLocation::Http(HttpDataLocation {
                location: HttpLocation::Gcp { bucket_name: s64(), filter_directory: FixedString::new("f").unwrap() },
                token_size_in_bytes: TokenSize::FourBytes,
                shuffle: Shuffle::Seeded([7; 32]),
            }),
            lr_schedule: LrSchedule::WarmupStableDecay {
                base_lr: 1.0,
                warmup_init_lr: 0.0,
                cosine_decay_final_lr: 0.1,
                linear_decay_final_lr: 0.1,
                warmup_steps: 1,
                stable_steps: 1,
                cosine_decay_steps: 1,
                linear_decay_steps: 1,
            },
            optimizer: Optimizer::AdamW { betas: [0.9, 0.95], weight_decay: 0.1, eps: 1e-8, clip_grad_norm: Some(1.0) },
        })
    }

    fn full_change(version: &str) -> RunChange {
        RunChange {
            metadata: Some(RunMetadata {
                name: FixedString::new("n".repeat(64)).unwrap(),
                description: FixedString::new("d".repeat(280)).unwrap(),
                num_parameters: 1,
                vocab_size: 2,
            }),
            config: Some(Default::default()),
            model: Some(widest_model()),
            progress: Some(Default::default()),
            client_version: Some(version.into()),
            ..Default::default()
        }
    }

    fn target(ids: &ProgramIds, owner: Owner) -> Target<'_> {
        Target {
            ids,
            owner,
            authority: Pubkey::new_unique(),
            coordinator_instance: Pubkey::new_unique(),
            coordinator_account: Pubkey::new_unique(),
        }
    }

    /// Spec 11: a full update plus a long client version exceeds one packet; it is split, and
    /// the client version still follows the update.
    #[test]
    fn full_update_with_long_version_is_split() {
        let ids = ProgramIds::default();
        let t = target(&ids, Owner::Direct);
        let version = format!("sha256:{}", "a".repeat(64));
        let txs = transactions(&t, &full_change(&version), &t.authority).unwrap();
        assert_eq!(txs.len(), 2);
        for tx in &txs {
            assert!(transaction_size(tx, &t.authority) <= MAX_TRANSACTION_SIZE);
        }
        assert_eq!(
            txs[1].last().unwrap().data[..8],
            *<UpdateClientVersion as anchor_lang::Discriminator>::DISCRIMINATOR
        );
    }

    #[test]
    fn treasurer_resume_with_client_version_is_two_run_updates() {
        let ids = ProgramIds::default();
        let t = target(&ids, Owner::Treasurer { run: Pubkey::new_unique() });
        let change = RunChange { paused: Some(false), client_version: Some("v2".into()), ..Default::default() };
        let txs = transactions(&t, &change, &t.authority).unwrap();
        let ixs: Vec<_> = txs.concat();
        assert_eq!(ixs.len(), 2, "client version and resume cannot share one run_update");
    }
}
