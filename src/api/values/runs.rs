//! Runs as typed objects: a `Run` holds the addresses of a run's coordinator instance, its
//! account and, for rewarded runs, the treasurer `Run`. How one is found and read through the
//! execution is in `ops::runs::handle`.

use crate::api::values::error::HostError;
use crate::psyche::accounts::coordinator_account::RunState;
use crate::psyche::pdas::MAX_RUN_ID_LEN;
use solana_sdk::pubkey::Pubkey;

/// A resolved run.
#[derive(Debug, Clone)]
pub struct RunHandle {
    pub run_id: String,
    pub instance: Pubkey,
    pub account: Pubkey,
    pub main_authority: Pubkey,
    pub join_authority: Pubkey,
    pub treasurer: Option<TreasurerRef>,
}

/// The treasurer side of a rewarded run.
#[derive(Debug, Clone)]
pub struct TreasurerRef {
    pub address: Pubkey,
    pub index: u64,
    pub mint: Pubkey,
    /// The human authority allowed to `run_update` (the Run PDA owns the coordinator).
    pub authority: Pubkey,
}

pub fn check_run_id(run_id: &str) -> Result<(), HostError> {
    if run_id.is_empty() || run_id.len() > MAX_RUN_ID_LEN {
        return Err(HostError::input(format!(
            "run id \"{run_id}\" is {} bytes; it must be 1 to {MAX_RUN_ID_LEN} bytes",
            run_id.len()
        )));
    }
    Ok(())
}

impl RunHandle {
    /// The human key allowed to change this run: the main authority of a direct run, the
    /// treasurer Run's authority of a rewarded one.
    pub fn authority(&self) -> Pubkey {
        self.treasurer.as_ref().map_or(self.main_authority, |t| t.authority)
    }
}

/// Accepts upstream's display names ("Waiting for members") and the variant names.
pub fn parse_state(text: &str) -> Result<RunState, HostError> {
    let wanted = text.trim().to_lowercase().replace([' ', '_'], "");
    RunState::ALL
        .into_iter()
        .find(|s| s.display().to_lowercase().replace(' ', "") == wanted || format!("{s:?}").to_lowercase() == wanted)
        .ok_or_else(|| {
            let names: Vec<_> = RunState::ALL.iter().map(|s| s.display()).collect();
            HostError::input(format!("unknown run state \"{text}\" (one of: {})", names.join(", ")))
        })
}

/// The `Run` type; how it prints needs the chain (`ops::runs::handle`).
pub fn register_types(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<RunHandle>("Run");
}
