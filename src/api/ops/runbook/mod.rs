//! What a runbook asks of its own execution: its parameters (`--set`), the outputs it reports,
//! the cluster it runs against with its program IDs, the signers it loads, and how it reads
//! the errors it catches.

pub mod cluster;
pub mod errors;
pub mod outputs;
pub mod params;
pub mod signers;

use rhai::Engine;
use rhai::plugin::*;

pub fn register(engine: &mut Engine) {
    errors::register(engine);
    engine.register_global_module(exported_module!(signers::signers_api).into());
    engine.register_global_module(exported_module!(cluster::cluster_api).into());
    engine.register_global_module(exported_module!(outputs::outputs_api).into());
    engine.register_global_module(exported_module!(params::params_api).into());
}
