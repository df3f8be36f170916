//! Runs governed by a Squads v4 multisig. `multisig(address)` opens one (and makes its vaults
//! known signers); steps whose authority is a vault — or every step inside
//! `ms.propose(title, || ..)` — become one vault transaction plus a proposal instead of being
//! sent. Members review (`ms.proposals()`), vote and execute; config proposals change members,
//! threshold, time lock and spending limits; a spending limit held by the cron key funds
//! runway top-ups from the vault. Pending proposals with the same content are reported, not
//! duplicated, so runbooks stay safe to re-run.
//!
//! `handle` holds a multisig and reads it; `vaults` makes its vaults signers the host proposes
//! for; `capture` runs `ms.propose(..)` steps on a scratch fork; `proposals` creates proposals
//! and takes votes; `execute` executes approved ones; `open` opens, creates and describes a
//! multisig; `config` proposes member, threshold and time-lock changes; `spending` manages
//! spending limits and the top-ups they fund.

pub mod capture;
pub mod config;
pub mod execute;
pub mod handle;
pub mod open;
pub mod proposals;
pub mod spending;
pub mod vaults;

use rhai::Engine;
use rhai::plugin::*;

pub fn register_types(engine: &mut Engine) {
    handle::register_types(engine);
}

pub fn register(engine: &mut Engine) {
    engine.register_global_module(exported_module!(open::open_api).into());
    engine.register_global_module(exported_module!(vaults::vault_api).into());
    engine.register_global_module(exported_module!(capture::capture_api).into());
    engine.register_global_module(exported_module!(proposals::proposals_api).into());
    engine.register_global_module(exported_module!(execute::execute_api).into());
    engine.register_global_module(exported_module!(config::config_api).into());
    engine.register_global_module(exported_module!(spending::spending_api).into());
}
