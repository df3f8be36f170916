//! `psyche-runbook decode KIND FILE`: decodes the data bytes of an account dump.

use crate::cli::AccountKind;
use crate::exit::{ExitCode, Failure};
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::authorization::Authorization;
use crate::psyche::accounts::coordinator_account::CoordinatorAccount;
use crate::psyche::accounts::instance::CoordinatorInstance;
use crate::psyche::accounts::treasurer::{Participant, TreasurerRun};
use crate::psyche::model::Checkpoint;
use crate::ui::Log;
use serde_json::Value;
use std::path::Path;

pub fn decode(kind: AccountKind, file: &Path, log: Log) -> Result<ExitCode, Failure> {
    let data = std::fs::read(file).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
    let fail = |e: crate::psyche::accounts::DecodeError| Failure::usage(format!("{}: {e}", file.display()));
    let json = |value: serde_json::Result<Value>| value.expect("decoded accounts serialize");
    let value: Value = match kind {
        AccountKind::CoordinatorAccount => {
            let account = CoordinatorAccount::decode(&data).map_err(fail)?;
            if !log.json() {
                println!("{}", summary(&account));
                return Ok(ExitCode::Success);
            }
            json(serde_json::to_value(&account))
        }
        AccountKind::CoordinatorInstance => {
            json(serde_json::to_value(CoordinatorInstance::decode(&data).map_err(fail)?))
        }
        AccountKind::Authorization => json(serde_json::to_value(Authorization::decode(&data).map_err(fail)?)),
        AccountKind::TreasurerRun => json(serde_json::to_value(TreasurerRun::decode(&data).map_err(fail)?)),
        AccountKind::Participant => json(serde_json::to_value(Participant::decode(&data).map_err(fail)?)),
    };
    println!("{}", serde_json::to_string_pretty(&value).expect("JSON serializes"));
    Ok(ExitCode::Success)
}

fn summary(a: &CoordinatorAccount) -> String {
    let checkpoint = match &a.model.llm().checkpoint {
        Checkpoint::Hub(h) | Checkpoint::P2P(h) | Checkpoint::Dummy(h) => format!(
            "{} {}{}",
            a.model.llm().checkpoint.variant_name(),
            h.repo_id,
            h.revision.as_ref().map_or(String::new(), |r| format!("@{r}"))
        ),
        Checkpoint::Gcs(g) | Checkpoint::P2PGcs(g) => {
            format!(
                "{} gs://{}/{}",
                a.model.llm().checkpoint.variant_name(),
                g.bucket,
                g.prefix.as_ref().map_or("", |p| p.as_str())
            )
        }
        Checkpoint::Ephemeral => "Ephemeral".into(),
    };
    format!(
        "run_id: {}\nstate: {}\nepoch: {}, step: {}\ncheckpoint: {checkpoint}\nclients: {} registered, {} in epoch\nrates: current {}/{}, future {}/{} (earning/slashing)\nclient_version: {}\nnonce: {}",
        a.run_id,
        a.run_state.display(),
        a.progress.epoch,
        a.progress.step,
        a.clients.len(),
        a.epoch_state.clients.len(),
        a.current_epoch_rates.earning_rate_total_shared,
        a.current_epoch_rates.slashing_rate_per_client,
        a.future_epoch_rates.earning_rate_total_shared,
        a.future_epoch_rates.slashing_rate_per_client,
        a.client_version,
        a.nonce
    )
}
