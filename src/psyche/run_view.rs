//! A run as read from its accounts: the coordinator instance and account, the treasurer side
//! of a rewarded run with its collateral balance, and the funding figures derived from them.
//! The upstream-shaped report and the summary people read are both built from this view.

use crate::psyche::accounts::coordinator_account::CoordinatorAccount;
use crate::psyche::accounts::instance::CoordinatorInstance;
use crate::psyche::accounts::treasurer::TreasurerRun;
use solana_sdk::pubkey::Pubkey;

/// The treasurer side of a rewarded run, with the balance of its collateral ATA.
pub struct TreasurerView<'a> {
    pub address: Pubkey,
    pub run: &'a TreasurerRun,
    pub collateral_amount: u64,
    pub mint_decimals: u8,
}

pub struct RunView<'a> {
    pub instance_address: Pubkey,
    pub instance: &'a CoordinatorInstance,
    pub account_address: Pubkey,
    pub account: &'a CoordinatorAccount,
    pub treasurer: Option<TreasurerView<'a>>,
}

pub fn ui_amount(native: u64, decimals: u8) -> f64 {
    native as f64 / 10f64.powi(i32::from(decimals))
}

/// Funding figures derived from the registry and the treasury balance (native units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Funding {
    pub claimable: u64,
    pub claimed: u64,
    pub unclaimed: u64,
    pub funded: u64,
    pub missing: u64,
    pub surplus: u64,
    pub burn_per_epoch: u64,
    /// `None` when nothing is burnt per epoch (upstream prints infinity, i.e. JSON null).
    pub funded_epochs: Option<f64>,
}

impl Funding {
    pub fn new(account: &CoordinatorAccount, run: &TreasurerRun, funded: u64) -> Self {
        let claimable: u64 = account.clients.iter().map(|c| c.earned).sum();
        let claimed = run.total_claimed_earned_points;
        // One earned point is one native unit of collateral.
        let unclaimed = claimable.saturating_sub(claimed);
        let burn_per_epoch = account.current_epoch_rates.earning_rate_total_shared;
        let surplus = funded.saturating_sub(unclaimed);
        Self {
            claimable,
            claimed,
            unclaimed,
            funded,
            missing: unclaimed.saturating_sub(funded),
            surplus,
            burn_per_epoch,
            funded_epochs: (burn_per_epoch != 0).then(|| surplus as f64 / burn_per_epoch as f64),
        }
    }
}
