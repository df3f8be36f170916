//! A run at a glance, for people: state, progress, clients, rates, the treasury's runway and a
//! pending pause. The REPL and `run`'s text output show this where `--output json` shows the
//! upstream-shaped report.

use crate::psyche::accounts::coordinator_account::{CoordinatorAccount, EpochRates};
use crate::psyche::run_view::{Funding, RunView, ui_amount};

/// The treasury of a rewarded run, in UI units of its collateral mint.
#[derive(Debug, Clone, PartialEq)]
pub struct TreasurySummary {
    pub funded: f64,
    pub unclaimed: f64,
    pub burn_per_epoch: f64,
    /// `None` when nothing is earned per epoch.
    pub funded_epochs: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub run_id: String,
    pub state: &'static str,
    pub pending_pause: bool,
    pub epoch: u16,
    pub step: u32,
    pub total_steps: u32,
    pub registered: usize,
    pub in_epoch: usize,
    pub exited: usize,
    pub current: EpochRates,
    pub future: EpochRates,
    /// The collateral mint's decimals; rates of direct runs are points (no decimals).
    pub decimals: Option<u8>,
    pub treasury: Option<TreasurySummary>,
}

impl RunSummary {
    pub fn new(view: &RunView) -> Self {
        let a: &CoordinatorAccount = view.account;
        let treasury = view.treasurer.as_ref().map(|t| {
            let f = Funding::new(a, t.run, t.collateral_amount);
            let ui = |n| ui_amount(n, t.mint_decimals);
            TreasurySummary {
                funded: ui(f.funded),
                unclaimed: ui(f.unclaimed),
                burn_per_epoch: ui(f.burn_per_epoch),
                funded_epochs: f.funded_epochs,
            }
        });
        Self {
            run_id: a.run_id.to_string(),
            state: a.run_state.display(),
            pending_pause: a.pending_pause,
            epoch: a.progress.epoch,
            step: a.progress.step,
            total_steps: a.config.total_steps,
            registered: a.clients.len(),
            in_epoch: a.epoch_state.clients.len(),
            exited: a.epoch_state.exited_clients.len(),
            current: a.current_epoch_rates,
            future: a.future_epoch_rates,
            decimals: view.treasurer.as_ref().map(|t| t.mint_decimals),
            treasury,
        }
    }

    /// A rate as the operator set it: UI units of the mint, or points for a direct run.
    fn amount(&self, native: u64) -> String {
        match self.decimals {
            Some(d) => ui_amount(native, d).to_string(),
            None => format!("{native} points"),
        }
    }

    fn rate(&self, current: u64, future: u64) -> String {
        if current == future {
            self.amount(current)
        } else {
            format!("{} (next epoch {})", self.amount(current), self.amount(future))
        }
    }
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "run \"{}\": {}", self.run_id, self.state)?;
        writeln!(f, "  epoch {}, step {} of {}", self.epoch, self.step, self.total_steps)?;
        writeln!(
            f,
            "  clients: {} registered, {} in this epoch, {} exited",
            self.registered, self.in_epoch, self.exited
        )?;
        writeln!(
            f,
            "  rates: earning {} per epoch, slashing {} per ejected client",
            self.rate(self.current.earning_rate_total_shared, self.future.earning_rate_total_shared),
            self.rate(self.current.slashing_rate_per_client, self.future.slashing_rate_per_client)
        )?;
        match &self.treasury {
            Some(t) => {
                let runway = match t.funded_epochs {
                    Some(epochs) => format!("{:.1} epochs of runway at {} per epoch", epochs, t.burn_per_epoch),
                    None => "no runway needed (nothing is earned per epoch)".to_string(),
                };
                writeln!(f, "  treasury: {} funded, {} unclaimed, {runway}", t.funded, t.unclaimed)?;
            }
            None => writeln!(f, "  treasury: none (not a rewarded run)")?,
        }
        write!(f, "  pending pause: {}", if self.pending_pause { "yes" } else { "no" })
    }
}
