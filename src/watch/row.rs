//! The figures an operator watches for one run, derived from its accounts: what the table,
//! the `--output json` document and the Prometheus metrics all show.

use crate::psyche::accounts::coordinator_account::{ClientState, CoordinatorAccount, RunState};
use crate::psyche::run_view::{Funding, ui_amount};
use crate::watch::read::RunSnapshot;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub run_id: String,
    pub instance: String,
    pub coordinator_account: String,
    pub join_authority: String,
    pub state: &'static str,
    pub epoch: u16,
    pub step: u32,
    pub total_steps: u32,
    pub clients: Clients,
    pub min_clients: u16,
    pub pending_pause: bool,
    pub rates: Rates,
    /// `None` for runs without a treasurer (no rewards).
    pub treasury: Option<TreasuryRow>,
}

/// The current epoch's clients: those that joined it, those still healthy, and those that
/// dropped out of it (dropped, withdrawn or ejected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Clients {
    pub joined: usize,
    pub healthy: usize,
    pub dropped: usize,
}

/// Reward rates per epoch, in collateral UI units (points for runs without a treasury).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub earning: f64,
    pub slashing: f64,
    pub future_earning: f64,
    pub future_slashing: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreasuryRow {
    pub address: String,
    pub mint: String,
    /// The treasury token account's balance.
    pub funded: f64,
    /// Earned by clients and not claimed yet.
    pub unclaimed: f64,
    pub burn_per_epoch: f64,
    /// Epochs the balance beyond unclaimed points covers at the current rate; `None` when
    /// nothing is earned per epoch.
    pub runway_epochs: Option<f64>,
}

/// A registered client with its points, for the detail view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientRow {
    pub id: String,
    pub signer: String,
    pub earned: u64,
    pub slashed: u64,
    /// The client's state in the current epoch, when it is part of it.
    pub epoch_state: Option<&'static str>,
}

fn client_state(state: ClientState) -> &'static str {
    match state {
        ClientState::Healthy => "Healthy",
        ClientState::Dropped => "Dropped",
        ClientState::Withdrawn => "Withdrawn",
        ClientState::Ejected => "Ejected",
    }
}

impl RunRow {
    pub fn new(run: &RunSnapshot) -> Self {
        let a = &run.account;
        let alive = &a.epoch_state.clients;
        let healthy = alive.iter().filter(|c| c.state == ClientState::Healthy).count();
        let clients = Clients {
            joined: alive.len() + a.epoch_state.exited_clients.len(),
            healthy,
            dropped: alive.len() - healthy + a.epoch_state.exited_clients.len(),
        };
        let decimals = run.treasury.as_ref().map_or(0, |t| t.decimals);
        let ui = |n| ui_amount(n, decimals);
        let treasury = run.treasury.as_ref().map(|t| {
            let f = Funding::new(a, &t.run, t.balance);
            TreasuryRow {
                address: t.address.to_string(),
                mint: t.run.collateral_mint.to_string(),
                funded: ui(f.funded),
                unclaimed: ui(f.unclaimed),
                burn_per_epoch: ui(f.burn_per_epoch),
                runway_epochs: f.funded_epochs,
            }
        });
        RunRow {
            run_id: run.instance.run_id.clone(),
            instance: run.instance_address.to_string(),
            coordinator_account: run.instance.coordinator_account.to_string(),
            join_authority: run.instance.join_authority.to_string(),
            state: a.run_state.display(),
            epoch: a.progress.epoch,
            step: a.progress.step,
            total_steps: a.config.total_steps,
            clients,
            min_clients: a.config.min_clients,
            pending_pause: a.pending_pause,
            rates: Rates {
                earning: ui(a.current_epoch_rates.earning_rate_total_shared),
                slashing: ui(a.current_epoch_rates.slashing_rate_per_client),
                future_earning: ui(a.future_epoch_rates.earning_rate_total_shared),
                future_slashing: ui(a.future_epoch_rates.slashing_rate_per_client),
            },
            treasury,
        }
    }

    /// Training progress in [0, 1] (0 when the run has no step budget yet).
    pub fn progress(&self) -> f64 {
        if self.total_steps == 0 { 0.0 } else { (f64::from(self.step) / f64::from(self.total_steps)).min(1.0) }
    }

    /// True when a rewarded run's treasury covers fewer than `threshold` epochs.
    pub fn runway_below(&self, threshold: f64) -> bool {
        self.treasury.as_ref().and_then(|t| t.runway_epochs).is_some_and(|epochs| epochs < threshold)
    }
}

/// The registered clients of a run with their points, best earners first.
pub fn client_rows(account: &CoordinatorAccount) -> Vec<ClientRow> {
    let epoch_state = |signer| {
        account
            .epoch_state
            .clients
            .iter()
            .chain(&account.epoch_state.exited_clients)
            .find(|c| c.signer == signer)
            .map(|c| client_state(c.state))
    };
    let mut rows: Vec<ClientRow> = account
        .clients
        .iter()
        .map(|c| ClientRow {
            id: c.signer.to_string(),
            signer: c.signer.to_string(),
            earned: c.earned,
            slashed: c.slashed,
            epoch_state: epoch_state(c.signer),
        })
        .collect();
    rows.sort_by(|a, b| b.earned.cmp(&a.earned).then_with(|| a.id.cmp(&b.id)));
    rows
}

/// Every run state with whether `state` is it (Prometheus' enum convention).
pub fn state_flags(state: &str) -> impl Iterator<Item = (&'static str, bool)> + '_ {
    RunState::ALL.into_iter().map(move |s| (s.display(), s.display() == state))
}
