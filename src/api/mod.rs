//! Host functions and types registered into Rhai, one module per domain. Each is an
//! `#[export_module]` whose `///` docs feed `psyche-runbook docs` and the REPL's `:functions`.

pub mod addresses;
pub mod amounts;
pub mod authz;
pub mod big_int;
pub mod cluster;
pub mod display;
pub mod error;
pub mod host;
pub mod inspect;
pub mod json;
pub mod keys;
pub mod localnet;
pub mod multisig;
pub mod notify;
pub mod outcome;
pub mod outputs;
pub mod params;
pub mod run_api;
pub mod run_report;
pub mod runs;
pub mod treasury;

use rhai::Engine;
use rhai::plugin::*;

/// Registers every host type and function into `engine`.
pub fn register(engine: &mut Engine) {
    keys::register_types(engine);
    runs::register_types(engine);
    error::register_types(engine);
    big_int::register_types(engine);
    run_report::register_types(engine);
    multisig::register_types(engine);
    engine.register_global_module(exported_module!(keys::keys_api).into());
    engine.register_global_module(exported_module!(big_int::big_int_api).into());
    engine.register_global_module(exported_module!(cluster::cluster_api).into());
    engine.register_global_module(exported_module!(addresses::addresses_api).into());
    engine.register_global_module(exported_module!(outputs::outputs_api).into());
    engine.register_global_module(exported_module!(params::params_api).into());
    engine.register_global_module(exported_module!(localnet::localnet_api).into());
    engine.register_global_module(exported_module!(run_api::run_api).into());
    engine.register_global_module(exported_module!(authz::authz_api).into());
    engine.register_global_module(exported_module!(treasury::treasury_api).into());
    engine.register_global_module(exported_module!(notify::notify_api).into());
    engine.register_global_module(exported_module!(multisig::multisig_api).into());
}
