//! `switch_to_hub`: a run whose checkpoint is P2P or Dummy gets a Hub checkpoint of the same
//! repo, through the same `update` upstream's run-manager sends for `--switch-to-hub` (the
//! model alone, every other field left out). A run already on the Hub, on GCS or ephemeral is
//! left as it is; like other model changes, the run must be paused.

use crate::api::host::Host;
use crate::api::ops::runs::manage::{apply, require_halted};
use crate::api::values::error::HostError;
use crate::api::values::outcome::unchanged;
use crate::api::values::runs::RunHandle;
use crate::psyche::model::Checkpoint;
use crate::psyche::sizing::RunChange;
use rhai::plugin::*;
use rhai::{EvalAltResult, Map};

type Res<T> = Result<T, Box<EvalAltResult>>;

fn switch_to_hub(host: &Host, r: &RunHandle) -> Result<Map, HostError> {
    let acc = r.coordinator(host)?;
    let mut model = acc.model.clone();
    let llm = model.llm_mut();
    llm.checkpoint = match &llm.checkpoint {
        Checkpoint::P2P(repo) | Checkpoint::Dummy(repo) => Checkpoint::Hub(repo.clone()),
        _ => return Ok(unchanged()),
    };
    require_halted(r, &acc, "switching the checkpoint to the Hub")?;
    apply(host, r, "switch checkpoint to the Hub", RunChange { model: Some(model), ..Default::default() })
}

#[export_module]
pub mod hub_api {
    use super::*;

    /// Turns a P2P or Dummy checkpoint into a Hub checkpoint of the same repo (a no-op on a
    /// Hub, GCS or ephemeral one). The run must be paused. Returns `#{changed, signatures}`.
    /// ```rhai
    /// r.pause(); r.wait_for("Paused", 600); r.switch_to_hub(); r.resume();
    /// ```
    #[rhai_fn(name = "switch_to_hub", return_raw)]
    pub fn switch(ctx: NativeCallContext, r: &mut RunHandle) -> Res<Map> {
        Ok(super::switch_to_hub(&Host::of(&ctx), r)?)
    }
}
