//! The values runbooks hold: pubkeys and signers, exact integers, token amounts, run handles,
//! run reports, errors and the outcomes of mutations, with how each prints for people
//! (`display`) and becomes JSON (`json`). Nothing here reads the chain or knows the execution;
//! the operations in `ops` do.

pub mod amounts;
pub mod big_int;
pub mod display;
pub mod error;
pub mod handlers;
pub mod json;
pub mod keys;
pub mod near_miss;
pub mod outcome;
pub mod run_report;
pub mod runs;

use rhai::Engine;
use rhai::plugin::*;

/// Registers the value types and the functions that need nothing but their values.
pub fn register(engine: &mut Engine) {
    keys::register_types(engine);
    runs::register_types(engine);
    error::register_types(engine);
    big_int::register_types(engine);
    run_report::register_types(engine);
    engine.register_global_module(exported_module!(keys::keys_api).into());
    engine.register_global_module(exported_module!(big_int::big_int_api).into());
}
