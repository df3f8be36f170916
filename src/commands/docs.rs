//! `psyche-runbook docs`: every host function and type.

use crate::api::host::Host;
use crate::chain::settings::Settings;
use crate::cli::GlobalArgs;
use crate::engine::docs::catalogue;
use crate::engine::interrupt::Interrupt;
use crate::engine::{Options, Runtime};
use crate::exit::{ExitCode, Failure};
use crate::ui::Log;
use serde_json::json;

pub fn docs(global: &GlobalArgs, log: Log) -> Result<ExitCode, Failure> {
    let host = Host::new(Settings::offline(global), log.clone(), &[], std::path::Path::new("."));
    let runtime = Runtime::new(
        host,
        Options { max_operations: 0, base_dir: Default::default(), interrupt: Interrupt::default() },
    );
    let (functions, types) = catalogue(&runtime.engine);
    if log.json() {
        let document = json!({"functions": functions, "types": types});
        println!("{}", serde_json::to_string_pretty(&document).expect("JSON serializes"));
    } else {
        println!("Types: {}", types.iter().filter_map(|t| t["name"].as_str()).collect::<Vec<_>>().join(", "));
        println!("A Pubkey parameter also takes a base58 string or a Signer (its public key).");
        println!();
        for f in &functions {
            let signature = f["signature"].as_str().unwrap_or_default();
            let description = f["description"].as_str().unwrap_or_default();
            if description.is_empty() {
                println!("{signature}");
            } else {
                println!("{signature}\n    {description}");
            }
        }
    }
    Ok(ExitCode::Success)
}
