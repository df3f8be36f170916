//! The operations runbooks call, one room per domain: `runbook` (parameters, outputs, the
//! cluster, signers), `runs` (find, create, configure and manage runs), `authz` (join
//! authorizations), `treasury` (top-ups and claims), `multisig` (Squads v4 governance),
//! `notify` (webhook alerts), `follow` (handlers for `run --follow`), `rundata` (run data in
//! and out through the run-down service), `localnet` (services of the embedded chain) and `inspect` (the
//! reports other operations read). Each works through the execution's `Host`.

pub mod authz;
pub mod follow;
pub mod inspect;
pub mod localnet;
pub mod multisig;
pub mod notify;
pub mod runbook;
pub mod rundata;
pub mod runs;
pub mod treasury;

use rhai::Engine;
use rhai::plugin::*;

/// Registers every domain's functions.
pub fn register(engine: &mut Engine) {
    runs::handle::register_functions(engine);
    multisig::register_types(engine);
    runbook::register(engine);
    runs::register(engine);
    engine.register_global_module(exported_module!(localnet::localnet_api).into());
    engine.register_global_module(exported_module!(authz::authz_api).into());
    engine.register_global_module(exported_module!(treasury::treasury_api).into());
    engine.register_global_module(exported_module!(notify::notify_api).into());
    engine.register_global_module(exported_module!(follow::follow_api).into());
    engine.register_global_module(exported_module!(rundata::rundata_api).into());
    multisig::register(engine);
}
