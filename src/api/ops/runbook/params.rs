//! Runbook parameters: the `--set KEY=VALUE` values (and `$RUN_ID` as `run_id`). They are also
//! constants in the script's scope; `param` reads optional ones without tripping strict
//! variables.

use crate::api::host::Host;
use crate::api::values::error::HostError;
use rhai::EvalAltResult;
use rhai::plugin::*;

#[export_module]
pub mod params_api {
    use super::*;

    /// A required parameter; missing, it is an error telling how to pass it.
    ///
    /// ```rhai
    /// let id = param("run_id");
    /// ```
    #[rhai_fn(name = "param", return_raw)]
    pub fn param(ctx: NativeCallContext, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        Host::of(&ctx)
            .params
            .get(name)
            .cloned()
            .ok_or_else(|| HostError::input(format!("missing parameter `{name}`: pass --set {name}=VALUE")).into())
    }

    /// An optional parameter with a default.
    ///
    /// ```rhai
    /// let epochs = param("epochs", 10);
    /// ```
    #[rhai_fn(name = "param")]
    pub fn param_or(ctx: NativeCallContext, name: &str, default: Dynamic) -> Dynamic {
        Host::of(&ctx).params.get(name).cloned().unwrap_or(default)
    }
}
