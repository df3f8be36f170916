//! The runbook API: what runbooks hold and what they can do, registered into Rhai.
//!
//! - `values`: the values runbooks hold (pubkeys and signers, exact integers, amounts, run
//!   handles, reports, errors and outcomes) and how they print and become JSON.
//! - `host`: the execution context every operation works through (settings, the payer, the
//!   chain, outputs). Features plug into it through its step sinks; it names none of them.
//! - `ops`: the operations each domain registers (runs, authorizations, treasury, multisig,
//!   notify, localnet, inspection, and what a runbook asks of its own execution).
//!
//! Each registered module is an `#[export_module]` whose `///` docs feed `psyche-runbook docs`
//! and the REPL's `:functions`.

pub mod host;
pub mod ops;
pub mod values;

use rhai::Engine;

/// Registers every host type and function into `engine`: the values first, then the operations.
pub fn register(engine: &mut Engine) {
    values::register(engine);
    ops::register(engine);
}
