//! Run and user reports with the shape and key names of upstream's `json-dump-run` and
//! `json-dump-user` (spec 7), built from decoded accounts. Keys come out sorted, as upstream's
//! `serde_json` prints them. Clients are keyed by their full base58 signer, as upstream did
//! before 2026-03-05: operators pass that key back to `user_info`, and HEAD's 8-hex prefix can
//! collide. Every u64 stays a JSON integer.

use crate::psyche::accounts::coordinator_account::{ClientState, CoordinatorAccount, EpochClient};
use crate::psyche::accounts::treasurer::Participant;
use crate::psyche::run_view::{Funding, RunView, ui_amount};
use crate::psyche::summary::RunSummary;
use serde_json::{Map, Value, json};
use solana_sdk::pubkey::Pubkey;

/// A run's report: the upstream-shaped JSON, and the summary people read.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub json: Value,
    pub summary: RunSummary,
}

fn client_state(state: ClientState) -> &'static str {
    match state {
        ClientState::Healthy => "Healthy",
        ClientState::Dropped => "Dropped",
        ClientState::Withdrawn => "Withdrawn",
        ClientState::Ejected => "Ejected",
    }
}

fn epoch_clients(clients: &[EpochClient]) -> Map<String, Value> {
    clients.iter().map(|c| (c.signer.to_string(), json!(client_state(c.state)))).collect()
}

pub fn run_report(view: &RunView) -> RunReport {
    RunReport { json: run_json(view), summary: RunSummary::new(view) }
}

fn run_json(view: &RunView) -> Value {
    let a = view.account;
    let clients: Map<String, Value> = a
        .clients
        .iter()
        .map(|c| (c.signer.to_string(), json!({"active": c.active, "earned": c.earned, "slashed": c.slashed})))
        .collect();
    let coordinator_account = json!({
        "address": view.account_address.to_string(),
        "run_id": a.run_id,
        "setup": {
            "client_version": a.client_version,
            "metadata": a.metadata,
            "model": a.model,
            "config": a.config,
        },
        "status": {
            "next_active": a.next_active,
            "state": a.run_state.display(),
            "epoch": a.progress.epoch,
            "step": a.progress.step,
        },
        "epoch": {
            "clients": {
                "alive": epoch_clients(&a.epoch_state.clients),
                "exited": epoch_clients(&a.epoch_state.exited_clients),
            },
            "rates": {
                "current": {
                    "earning": a.current_epoch_rates.earning_rate_total_shared,
                    "slashing": a.current_epoch_rates.slashing_rate_per_client,
                },
                "future": {
                    "earning": a.future_epoch_rates.earning_rate_total_shared,
                    "slashing": a.future_epoch_rates.slashing_rate_per_client,
                },
            },
        },
        "clients": clients,
        "accounting": {
            "max_active": a.clients.iter().map(|c| c.active).max(),
            "sum_earned": a.clients.iter().map(|c| c.earned).sum::<u64>(),
            "sum_slashed": a.clients.iter().map(|c| c.slashed).sum::<u64>(),
        },
        "nonce": a.nonce,
    });
    let treasurer_run = view.treasurer.as_ref().map(|t| {
        let f = Funding::new(a, t.run, t.collateral_amount);
        let ui = |n| ui_amount(n, t.mint_decimals);
        json!({
            "address": t.address.to_string(),
            "index": t.run.index,
            "main_authority": t.run.main_authority.to_string(),
            "join_authority": t.run.join_authority.to_string(),
            "collateral_mint": t.run.collateral_mint.to_string(),
            "total_claimed_earned_points": f.claimed,
            "total_claimable_earned_points": f.claimable,
            "total_unclaimed_earned_points": f.unclaimed,
            "funded_collateral_amount": ui(f.funded),
            "total_missing_collateral_amount": ui(f.missing),
            "total_surplus_collateral_amount": ui(f.surplus),
            "burn_collateral_amount_per_epoch": ui(f.burn_per_epoch),
            "estimated_funded_epochs_count": f.funded_epochs,
        })
    });
    json!({
        "coordinator_instance": {
            "address": view.instance_address.to_string(),
            "join_authority": view.instance.join_authority.to_string(),
            "main_authority": view.instance.main_authority.to_string(),
        },
        "coordinator_account": coordinator_account,
        "treasurer_run": treasurer_run,
    })
}

/// The treasurer side of a user report: the wallet's collateral and its Participant, if any.
pub struct ParticipantView<'a> {
    pub collateral_mint: Pubkey,
    pub mint_decimals: u8,
    pub wallet_collateral: u64,
    pub participant: Option<&'a Participant>,
}

pub fn user_report(
    user: &Pubkey,
    lamports: u64,
    account: &CoordinatorAccount,
    treasurer: Option<ParticipantView>,
) -> Value {
    let client = account
        .clients
        .iter()
        .find(|c| c.signer == *user)
        .map(|c| json!({"active": c.active, "earned": c.earned, "slashed": c.slashed}));
    let epoch_entry = |list: &[EpochClient]| {
        list.iter()
            .find(|c| c.signer == *user)
            .map(|c| json!({"state": client_state(c.state), "exited_height": c.exited_height}))
    };
    json!({
        "address": user.to_string(),
        "lamports": lamports,
        "coordinator_account": {
            "client": client,
            "epoch_alive": epoch_entry(&account.epoch_state.clients),
            "epoch_exited": epoch_entry(&account.epoch_state.exited_clients),
        },
        "treasurer_participant": treasurer.map(|t| json!({
            "collateral_mint": t.collateral_mint.to_string(),
            "collateral_amount": ui_amount(t.wallet_collateral, t.mint_decimals),
            "claimed_earned_points": t.participant.map(|p| p.claimed_earned_points),
            "claimed_collateral_amount": t.participant.map(|p| ui_amount(p.claimed_collateral_amount, t.mint_decimals)),
        })),
    })
}
