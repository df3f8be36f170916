//! A run's report as a script value: indexed like the upstream-shaped map it holds
//! (`info.coordinator_account.status.epoch`, `info["treasurer_run"]`), printed as the summary
//! people read, and output as upstream's JSON.

use crate::api::values::error::HostError;
use crate::api::values::json::from_json;
use crate::api::values::near_miss::did_you_mean;
use crate::psyche::report::RunReport;
use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString};

/// `report.key` and `report["key"]`: a top-level section of the report, as a map.
fn section(report: &mut RunReport, key: ImmutableString) -> Result<Dynamic, Box<EvalAltResult>> {
    match report.json.get(key.as_str()) {
        Some(value) => Ok(from_json(value)),
        None => {
            let keys = report.json.as_object().into_iter().flat_map(|o| o.keys().map(String::as_str));
            Err(HostError::input(format!("a run report has no `{key}`{}", did_you_mean(&key, keys))).into())
        }
    }
}

pub fn register_types(engine: &mut Engine) {
    engine
        .register_type_with_name::<RunReport>("RunReport")
        .register_indexer_get(section)
        .register_fn("keys", |r: &mut RunReport| -> Array {
            r.json.as_object().into_iter().flat_map(|o| o.keys().map(|k| Dynamic::from(k.clone()))).collect()
        })
        .register_fn("to_map", |r: &mut RunReport| from_json(&r.json))
        .register_fn("to_json", |r: &mut RunReport| serde_json::to_string_pretty(&r.json).expect("reports serialize"))
        .register_fn("to_string", |r: &mut RunReport| r.summary.to_string())
        .register_fn("to_debug", |r: &mut RunReport| r.summary.to_string());
}
