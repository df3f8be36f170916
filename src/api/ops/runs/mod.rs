//! Runs: finding and reading one through the execution (`handle`), creating, configuring and
//! managing it (`manage`), moving its checkpoint to the Hub (`hub`), listing runs, joinable
//! ones among them (`listing`), and the derived addresses of its accounts (`addresses`).

pub mod addresses;
pub mod handle;
pub mod hub;
pub mod listing;
pub mod manage;

use rhai::Engine;
use rhai::plugin::*;

pub fn register(engine: &mut Engine) {
    engine.register_global_module(exported_module!(addresses::addresses_api).into());
    engine.register_global_module(exported_module!(manage::run_api).into());
    engine.register_global_module(exported_module!(hub::hub_api).into());
    engine.register_global_module(exported_module!(listing::listing_api).into());
}
