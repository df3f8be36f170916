//! Runs: finding and reading one through the execution (`handle`), creating, configuring and
//! managing it (`manage`), and the derived addresses of its accounts (`addresses`).

pub mod addresses;
pub mod handle;
pub mod manage;

use rhai::Engine;
use rhai::plugin::*;

pub fn register(engine: &mut Engine) {
    engine.register_global_module(exported_module!(addresses::addresses_api).into());
    engine.register_global_module(exported_module!(manage::run_api).into());
}
