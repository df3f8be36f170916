//! Outputs: the values a runbook reports. They appear in the `--output json` document on
//! stdout (and, in text mode, as `name = value` lines on stdout, laid out for people).

use crate::api::host::Host;
use crate::api::ops::runs::handle::show;
use crate::api::values::json::to_json;
use rhai::plugin::*;

#[export_module]
pub mod outputs_api {
    use super::*;

    /// Emits a named output; a later call with the same name replaces the value.
    ///
    /// ```rhai
    /// output("treasury_balance", 250.0);
    /// ```
    pub fn output(ctx: NativeCallContext, name: &str, value: Dynamic) {
        let host = Host::of(&ctx);
        host.set_output(name.to_string(), to_json(&value));
        host.set_output_text(name.to_string(), show(&value, &host));
    }
}
