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

/// An engine with the host API, on no chain: what the catalogue and the definitions read.
fn offline_runtime(global: &GlobalArgs, log: &Log) -> Runtime {
    let host = Host::new(Settings::offline(global), log.clone(), &[], std::path::Path::new("."));
    Runtime::new(host, Options { max_operations: 0, base_dir: Default::default(), interrupt: Interrupt::default() })
}

pub fn docs(global: &GlobalArgs, log: Log) -> Result<ExitCode, Failure> {
    let runtime = offline_runtime(global, &log);
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

/// `docs --definitions DIR`: Rhai definition files of the host API (`__static__.d.rhai` and
/// the type methods with it, and what tests use), the language's own packages
/// (`__builtin__*.d.rhai`) and one file per standard library module, so an editor with Rhai
/// support completes and checks runbooks.
pub fn definitions(global: &GlobalArgs, dir: &std::path::Path, log: Log) -> Result<ExitCode, Failure> {
    let mut runtime = offline_runtime(global, &log);
    for (path, source) in crate::engine::modules::STDLIB {
        let ast = runtime.engine.compile(*source).expect("the standard library compiles");
        let module = rhai::Module::eval_ast_as_new(rhai::Scope::new(), &ast, &runtime.engine)
            .expect("the standard library's modules evaluate");
        runtime.engine.register_static_module(*path, module.into());
    }
    // What `*.test.rhai` files use besides the host API.
    crate::testing::register(&mut runtime.engine);
    let written = |e: std::io::Error| Failure::new(ExitCode::Storage, format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(written)?;
    let mut files = 0;
    for (name, text) in runtime.engine.definitions().with_headers(true).iter_files() {
        // A standard library module's name is its import path (`psyche/checks`).
        let path = dir.join(name.replace('/', "__"));
        std::fs::write(&path, text).map_err(written)?;
        files += 1;
    }
    log.info(&format!("{files} definition files written to {}", dir.display()));
    Ok(ExitCode::Success)
}
