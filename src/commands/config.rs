//! `psyche-runbook config check FILE`: a run config against the coordinator's own checks.

use crate::exit::{ExitCode, Failure};
use crate::psyche::checks::check_run_config;
use crate::psyche::config::RunConfig;
use crate::ui::Log;
use serde_json::json;
use std::path::Path;

pub fn check(file: &Path, log: Log) -> Result<ExitCode, Failure> {
    let name = file.display();
    let config = RunConfig::from_file(file).map_err(|e| Failure::usage(e.to_string()))?;
    let violations = check_run_config(&config).err().map(|v| v.0).unwrap_or_default();
    if log.json() {
        let list: Vec<_> = violations.iter().map(|v| json!({"key": v.key, "value": v.value, "rule": v.rule})).collect();
        let document = json!({"file": name.to_string(), "ok": violations.is_empty(), "violations": list});
        println!("{}", serde_json::to_string_pretty(&document).expect("JSON serializes"));
    } else if violations.is_empty() {
        log.info(&format!("{name}: ok (passes the coordinator's config, model and cold-start checks)"));
    } else {
        for v in &violations {
            log.error(&format!("{name}: {v}"));
        }
    }
    Ok(if violations.is_empty() { ExitCode::Success } else { ExitCode::Usage })
}
