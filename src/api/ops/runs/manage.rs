//! Run management for runbooks: create, configure, pause/resume, rates, tick, close.
//! Every mutation reads the chain first and sends nothing when the desired state already holds.

use crate::api::host::Host;
use crate::api::values::amounts::to_native;
use crate::api::values::big_int::to_u64;
use crate::api::values::error::HostError;
use crate::api::values::json::{from_json, to_json};
use crate::api::values::keys::{PubkeyArg, SignerHandle, to_pubkey};
use crate::api::values::outcome::{changed, unchanged, with};
use crate::api::values::runs::{RunHandle, check_run_id, parse_state};
use crate::psyche::accounts::coordinator_account::{CoordinatorAccount, RunState};
use crate::psyche::checks::check_run_config;
use crate::psyche::config::{CoordinatorProgress, RunConfig, RunMetadata};
use crate::psyche::fixed::FixedString;
use crate::psyche::instructions::{coordinator, system, treasurer};
use crate::psyche::model::{Checkpoint, HubRepo};
use crate::psyche::pdas;
use crate::psyche::report::RunReport;
use crate::psyche::run_update;
use crate::psyche::sizing::RunChange;
use rhai::plugin::*;
use rhai::{EvalAltResult, INT, Map};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::rent::Rent;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Applies `change` to `run` (nothing when empty), in as few valid transactions as fit.
pub fn apply(host: &Host, run: &RunHandle, what: &str, change: RunChange) -> Result<Map, HostError> {
    if change.is_empty() {
        return Ok(unchanged());
    }
    let target = run.target(host)?;
    let payer = host.payer()?.pubkey();
    let transactions =
        run_update::transactions(&target, &change, &payer).map_err(|e| HostError::input(e.to_string()))?;
    let mut signatures = Vec::new();
    for (i, instructions) in transactions.iter().enumerate() {
        let label = if transactions.len() > 1 {
            format!("{what} ({}/{})", i + 1, transactions.len())
        } else {
            what.to_string()
        };
        signatures.push(host.send(&format!("run \"{}\": {label}", run.run_id), instructions, &[])?);
    }
    Ok(changed(signatures))
}

/// A run config from a `config.toml` path or a Rhai map, checked like the coordinator would.
fn run_config(host: &Host, source: &Dynamic) -> Result<RunConfig, HostError> {
    let (config, origin) = if let Some(path) = source.clone().try_cast::<String>() {
        let (path, text) = host.read_data(&path, "a run config")?;
        let origin = path.display().to_string();
        let config = RunConfig::from_toml_str(&text, &origin).map_err(|e| HostError::input(e.to_string()))?;
        (config, origin)
    } else if source.is_map() {
        let config =
            serde_json::from_value(to_json(source)).map_err(|e| HostError::input(format!("run config map: {e}")))?;
        (config, "run config map".to_string())
    } else {
        return Err(HostError::input(format!("a run config is a path or a map, not {}", source.type_name())));
    };
    check_run_config(&config).map_err(|v| {
        let lines: Vec<_> = v.0.iter().map(|v| format!("{origin}: {v}")).collect();
        HostError::input(lines.join("\n"))
    })?;
    Ok(config)
}

pub fn require_halted(run: &RunHandle, acc: &CoordinatorAccount, what: &str) -> Result<(), HostError> {
    if acc.run_state.is_halted() {
        return Ok(());
    }
    Err(HostError::input(format!(
        "run \"{}\" is {}: {what} needs it paused first (r.pause(); r.wait_for(\"Paused\", 600))",
        run.run_id,
        acc.run_state.display()
    )))
}

fn string_field(map: &Map, key: &str) -> Option<String> {
    map.get(key).and_then(|v| v.clone().try_cast::<String>())
}

fn pubkey_field(map: &Map, key: &str) -> Result<Option<Pubkey>, HostError> {
    match map.get(key) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => to_pubkey(v).map(Some).map_err(|e| HostError::input(format!("{key}: {}", e.message))),
    }
}

fn create_run(host: &Host, spec: &Map) -> Result<Map, HostError> {
    let run_id = string_field(spec, "run_id").ok_or_else(|| HostError::input("create_run: run_id is required"))?;
    check_run_id(&run_id)?;
    let payer = host.payer()?;
    let join_authority = pubkey_field(spec, "join_authority")?.unwrap_or(payer.pubkey());
    // A multisig vault may hold the run: later changes to it are then proposed.
    let main_authority = pubkey_field(spec, "main_authority")?.unwrap_or(payer.pubkey());
    let client_version = string_field(spec, "client_version").unwrap_or_else(|| "latest".into());
    FixedString::<96>::new(client_version.clone()).map_err(|e| HostError::input(format!("client_version: {e}")))?;
    let mint = pubkey_field(spec, "mint")?;
    let index = match spec.get("treasurer_index") {
        None => pdas::treasurer_index(&run_id),
        Some(v) => to_u64(v, "treasurer_index")?,
    };
    if spec.contains_key("treasurer_index") && mint.is_none() {
        return Err(HostError::input("treasurer_index needs a mint (a rewarded run)"));
    }
    let ids = &host.settings.programs;
    let instance = pdas::coordinator_instance(ids, &run_id);
    let run_pda = mint.map(|_| pdas::treasurer_run(ids, index));
    // The existence checks below read in one batch (the instance first, as `find` does).
    let default_run = pdas::treasurer_run(ids, pdas::treasurer_index(&run_id));
    host.accounts(&[instance, default_run].into_iter().chain(mint).collect::<Vec<_>>())?;
    if let Some(existing) = RunHandle::find(host, &run_id)? {
        if existing.join_authority != join_authority
            || existing.authority() != main_authority
            || existing.treasurer.as_ref().map(|t| t.mint) != mint
        {
            return Err(HostError::input(format!(
                "run \"{run_id}\" already exists with join authority {} and {}; not changing it",
                existing.join_authority,
                existing.treasurer.as_ref().map_or("no rewards".to_string(), |t| format!("mint {}", t.mint))
            )));
        }
        return Ok(with(unchanged(), "run", Dynamic::from(existing)));
    }
    if let Some(mint) = mint {
        let account = host.account(&mint)?.ok_or_else(|| HostError::input(format!("mint {mint} does not exist")))?;
        if account.owner != crate::psyche::ids::TOKEN {
            return Err(HostError::input(format!("{mint} is not a token mint of the token program")));
        }
    }
    let coordinator_account = Keypair::new();
    let create =
        system::create_coordinator_account(ids, &payer.pubkey(), &coordinator_account.pubkey(), &Rent::default());
    let init = match mint {
        None => coordinator::instruction(
            ids,
            &coordinator::InitCoordinatorAccounts {
                payer: payer.pubkey(),
                coordinator_instance: instance,
                coordinator_account: coordinator_account.pubkey(),
            },
            &coordinator::InitCoordinator {
                params: coordinator::InitCoordinatorParams {
                    main_authority,
                    join_authority,
                    run_id: run_id.clone(),
                    client_version,
                },
            },
        ),
        Some(mint) => {
            let run = run_pda.expect("a rewarded run has a treasurer Run");
            treasurer::instruction(
                ids,
                &treasurer::RunCreateAccounts {
                    payer: payer.pubkey(),
                    run,
                    run_collateral: pdas::associated_token(&run, &mint),
                    collateral_mint: mint,
                    coordinator_instance: instance,
                    coordinator_account: coordinator_account.pubkey(),
                    coordinator_program: ids.coordinator,
                },
                &treasurer::RunCreate {
                    params: treasurer::RunCreateParams {
                        index,
                        run_id: run_id.clone(),
                        client_version,
                        main_authority,
                        join_authority,
                    },
                },
            )
        }
    };
    let account = coordinator_account.pubkey();
    let coordinator_account = SignerHandle::new(coordinator_account, "the run's new coordinator account".into());
    let signature = host.send(&format!("create run \"{run_id}\""), &[create, init], &[&coordinator_account])?;
    host.touch_run(&run_id);
    // What was just created, without reading it back.
    let run = RunHandle {
        run_id,
        instance,
        account,
        main_authority: run_pda.unwrap_or(main_authority),
        join_authority,
        treasurer: run_pda.zip(mint).map(|(address, mint)| crate::api::values::runs::TreasurerRef {
            address,
            index,
            mint,
            authority: main_authority,
        }),
    };
    Ok(with(changed(vec![signature]), "run", Dynamic::from(run)))
}

/// `progress` for restarting at `step`: the data index that step starts at.
fn progress_for_step(acc: &CoordinatorAccount, step: u32) -> CoordinatorProgress {
    let index = acc.config.data_index_for_step(step, acc.model.llm().max_seq_len);
    CoordinatorProgress { epoch: acc.progress.epoch, step, epoch_start_data_index: index }
}

fn host_of(ctx: &NativeCallContext) -> std::sync::Arc<Host> {
    Host::of(ctx)
}

#[export_module]
pub mod run_api {
    use super::*;

    /// Creates a run unless it exists: `#{run_id, main_authority?, join_authority?,
    /// client_version?, mint?, treasurer_index?}`. With a collateral `mint` the run is rewarded
    /// (treasurer-managed). Authorities default to the payer; a multisig vault
    /// (`ms.vault(0)`) as main authority makes later changes proposals.
    /// Returns `#{changed, signatures, run}`.
    #[rhai_fn(return_raw)]
    pub fn create_run(ctx: NativeCallContext, spec: Map) -> Res<Map> {
        Ok(super::create_run(&host_of(&ctx), &spec)?)
    }

    /// The run `run_id`; an error when it does not exist.
    #[rhai_fn(return_raw)]
    pub fn run(ctx: NativeCallContext, run_id: &str) -> Res<RunHandle> {
        Ok(RunHandle::resolve(&host_of(&ctx), run_id)?)
    }

    /// True when run `run_id` exists.
    #[rhai_fn(return_raw)]
    pub fn run_exists(ctx: NativeCallContext, run_id: &str) -> Res<bool> {
        Ok(RunHandle::find(&host_of(&ctx), run_id)?.is_some())
    }

    /// The run id.
    #[rhai_fn(get = "run_id", pure)]
    pub fn get_run_id(r: &mut RunHandle) -> String {
        r.run_id.clone()
    }

    /// The CoordinatorInstance address.
    #[rhai_fn(get = "address", pure)]
    pub fn get_address(r: &mut RunHandle) -> Pubkey {
        r.instance
    }

    /// The coordinator account address.
    #[rhai_fn(get = "coordinator_account", pure)]
    pub fn get_coordinator_account(r: &mut RunHandle) -> Pubkey {
        r.account
    }

    /// The join authority (grantor of the run's join authorizations).
    #[rhai_fn(get = "join_authority", pure)]
    pub fn get_join_authority(r: &mut RunHandle) -> Pubkey {
        r.join_authority
    }

    /// True for a rewarded (treasurer-managed) run.
    #[rhai_fn(get = "rewarded", pure)]
    pub fn get_rewarded(r: &mut RunHandle) -> bool {
        r.treasurer.is_some()
    }

    /// The collateral mint of a rewarded run, or `()`.
    #[rhai_fn(get = "mint", pure)]
    pub fn get_mint(r: &mut RunHandle) -> Dynamic {
        r.treasurer.as_ref().map_or(Dynamic::UNIT, |t| Dynamic::from(t.mint))
    }

    /// The treasurer Run address of a rewarded run, or `()`.
    #[rhai_fn(get = "treasurer", pure)]
    pub fn get_treasurer(r: &mut RunHandle) -> Dynamic {
        r.treasurer.as_ref().map_or(Dynamic::UNIT, |t| Dynamic::from(t.address))
    }

    /// The run's state as upstream displays it ("Paused", "Waiting for members", ...).
    #[rhai_fn(name = "state", return_raw)]
    pub fn state(ctx: NativeCallContext, r: &mut RunHandle) -> Res<String> {
        Ok(r.state(&host_of(&ctx))?.display().to_string())
    }

    /// Pauses the run (a no-op when already paused or pausing).
    #[rhai_fn(name = "pause", return_raw)]
    pub fn pause(ctx: NativeCallContext, r: &mut RunHandle) -> Res<Map> {
        let host = host_of(&ctx);
        let acc = r.coordinator(&host)?;
        if acc.run_state.is_halted() || acc.pending_pause {
            return Ok(unchanged());
        }
        Ok(apply(&host, r, "pause", RunChange { paused: Some(true), ..Default::default() })?)
    }

    /// Resumes the run so clients can join (a no-op when it is already running). A new run needs
    /// its config first.
    #[rhai_fn(name = "resume", return_raw)]
    pub fn resume(ctx: NativeCallContext, r: &mut RunHandle) -> Res<Map> {
        let host = host_of(&ctx);
        let acc = r.coordinator(&host)?;
        match acc.run_state {
            RunState::Paused => {}
            RunState::Uninitialized => {
                check_run_config(&RunConfig { config: acc.config, model: acc.model.clone() }).map_err(|v| {
                    HostError::input(format!(
                        "run \"{}\" has no valid config yet: {v}; call update_config first",
                        r.run_id
                    ))
                })?;
            }
            RunState::Finished => return Err(HostError::input(format!("run \"{}\" is finished", r.run_id)).into()),
            _ => return Ok(unchanged()),
        }
        Ok(apply(&host, r, "resume", RunChange { paused: Some(false), ..Default::default() })?)
    }

    /// Sets the run's config and model from a `config.toml` path or a map, when they differ from
    /// the chain. Checked locally first; the run must be paused (or new).
    #[rhai_fn(name = "update_config", return_raw)]
    pub fn update_config(ctx: NativeCallContext, r: &mut RunHandle, source: Dynamic) -> Res<Map> {
        let host = host_of(&ctx);
        let desired = run_config(&host, &source)?;
        let acc = r.coordinator(&host)?;
        if acc.config == desired.config && acc.model.matches_configured(&desired.model) {
            return Ok(unchanged());
        }
        require_halted(r, &acc, "changing the config")?;
        // The coordinator checks config and model together; send both when either changes.
        let change = RunChange { config: Some(desired.config), model: Some(desired.model), ..Default::default() };
        Ok(apply(&host, r, "update config", change)?)
    }

    /// True when the run's config and model already equal `source` (a path or a map).
    #[rhai_fn(name = "config_matches", return_raw)]
    pub fn config_matches(ctx: NativeCallContext, r: &mut RunHandle, source: Dynamic) -> Res<bool> {
        let host = host_of(&ctx);
        let desired = run_config(&host, &source)?;
        let acc = r.coordinator(&host)?;
        Ok(acc.config == desired.config && acc.model.matches_configured(&desired.model))
    }

    /// The client version stored on chain.
    #[rhai_fn(name = "client_version", return_raw)]
    pub fn client_version(ctx: NativeCallContext, r: &mut RunHandle) -> Res<String> {
        Ok(r.coordinator(&host_of(&ctx))?.client_version.to_string())
    }

    /// Sets metadata fields that differ: `#{name, description, num_parameters, vocab_size}`
    /// (missing keys keep their current value). Allowed while running.
    #[rhai_fn(name = "update_metadata", return_raw)]
    pub fn update_metadata(ctx: NativeCallContext, r: &mut RunHandle, fields: Map) -> Res<Map> {
        let host = host_of(&ctx);
        let acc = r.coordinator(&host)?;
        let mut metadata: RunMetadata = acc.metadata.clone();
        let mut json = serde_json::to_value(&metadata).expect("metadata serializes");
        for (key, value) in &fields {
            if json.get(key.as_str()).is_none() {
                return Err(HostError::input(format!(
                    "update_metadata: unknown field `{key}` (name, description, num_parameters, vocab_size)"
                ))
                .into());
            }
            json[key.as_str()] = to_json(value);
        }
        metadata = serde_json::from_value(json).map_err(|e| HostError::input(format!("update_metadata: {e}")))?;
        if metadata == acc.metadata {
            return Ok(unchanged());
        }
        Ok(apply(&host, r, "update metadata", RunChange { metadata: Some(metadata), ..Default::default() })?)
    }

    /// Sets the client version training clients must run (the run must be paused or new).
    #[rhai_fn(name = "update_client_version", return_raw)]
    pub fn update_client_version(ctx: NativeCallContext, r: &mut RunHandle, version: &str) -> Res<Map> {
        let host = host_of(&ctx);
        FixedString::<96>::new(version).map_err(|e| HostError::input(format!("client version: {e}")))?;
        let acc = r.coordinator(&host)?;
        if acc.client_version.as_str() == version {
            return Ok(unchanged());
        }
        require_halted(r, &acc, "changing the client version")?;
        Ok(apply(
            &host,
            r,
            "update client version",
            RunChange { client_version: Some(version.into()), ..Default::default() },
        )?)
    }

    /// Restarts training from `step` (the run must be paused): progress moves to that step and
    /// the data index it starts at.
    #[rhai_fn(name = "restart_from_step", return_raw)]
    pub fn restart_from_step(ctx: NativeCallContext, r: &mut RunHandle, step: INT) -> Res<Map> {
        let host = host_of(&ctx);
        let step = u32::try_from(step)
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| HostError::input(format!("step {step} must be between 1 and {}", u32::MAX)))?;
        let acc = r.coordinator(&host)?;
        if acc.progress.step == step {
            return Ok(unchanged());
        }
        require_halted(r, &acc, "restarting from a step")?;
        let progress = progress_for_step(&acc, step);
        Ok(apply(&host, r, "restart from step", RunChange { progress: Some(progress), ..Default::default() })?)
    }

    /// Sets the future epoch rates in UI units of the collateral mint (points for direct runs):
    /// the total earned per epoch, shared by its clients, and the slash per ejected client.
    #[rhai_fn(name = "set_rates", return_raw)]
    pub fn set_rates(ctx: NativeCallContext, r: &mut RunHandle, earning: Dynamic, slashing: Dynamic) -> Res<Map> {
        let host = host_of(&ctx);
        let decimals = r.decimals(&host)?;
        let earning = to_native(&earning, decimals, "earning rate")?;
        let slashing = to_native(&slashing, decimals, "slashing rate")?;
        let acc = r.coordinator(&host)?;
        let future = acc.future_epoch_rates;
        let change = RunChange {
            earning_rate: (future.earning_rate_total_shared != earning).then_some(earning),
            slashing_rate: (future.slashing_rate_per_client != slashing).then_some(slashing),
            ..Default::default()
        };
        Ok(apply(&host, r, "set future epoch rates", change)?)
    }

    /// Sends one `tick` (anyone may); the run's clock-driven transitions happen on ticks.
    #[rhai_fn(name = "tick", return_raw)]
    pub fn tick(ctx: NativeCallContext, r: &mut RunHandle) -> Res<Map> {
        let host = host_of(&ctx);
        let payer = host.payer()?.pubkey();
        let accounts = coordinator::PermissionlessAccounts {
            user: payer,
            coordinator_instance: r.instance,
            coordinator_account: r.account,
        };
        let ix = coordinator::instruction(&host.settings.programs, &accounts, &coordinator::Tick {});
        Ok(changed(vec![host.send(&format!("run \"{}\": tick", r.run_id), &[ix], &[])?]))
    }

    /// Reports a new Hub checkpoint (the signer must be a client of the current epoch).
    #[rhai_fn(name = "checkpoint", return_raw)]
    pub fn checkpoint(ctx: NativeCallContext, r: &mut RunHandle, repo_id: &str, revision: Dynamic) -> Res<Map> {
        let host = host_of(&ctx);
        let repo_id = FixedString::new(repo_id).map_err(|e| HostError::input(format!("repo id: {e}")))?;
        let revision = match revision.clone().try_cast::<String>() {
            Some(r) => Some(FixedString::new(r).map_err(|e| HostError::input(format!("revision: {e}")))?),
            None if revision.is_unit() => None,
            None => return Err(HostError::input("revision must be a string or ()").into()),
        };
        let payer = host.payer()?.pubkey();
        let accounts = coordinator::PermissionlessAccounts {
            user: payer,
            coordinator_instance: r.instance,
            coordinator_account: r.account,
        };
        let ix = coordinator::instruction(
            &host.settings.programs,
            &accounts,
            &coordinator::CheckpointIx { repo: Checkpoint::Hub(HubRepo { repo_id, revision }) },
        );
        Ok(changed(vec![host.send(&format!("run \"{}\": checkpoint", r.run_id), &[ix], &[])?]))
    }

    /// Closes a halted direct run and returns its rent to the payer. Rewarded runs cannot be
    /// closed (the treasurer has no close instruction).
    #[rhai_fn(name = "close", return_raw)]
    pub fn close(ctx: NativeCallContext, r: &mut RunHandle) -> Res<Map> {
        let host = host_of(&ctx);
        if r.treasurer.is_some() {
            return Err(
                HostError::input(format!("run \"{}\" is rewarded: treasurer runs cannot be closed", r.run_id)).into()
            );
        }
        let acc = r.coordinator(&host)?;
        require_halted(r, &acc, "closing")?;
        let target = r.target(&host)?;
        let ix = coordinator::instruction(
            &host.settings.programs,
            &coordinator::FreeCoordinatorAccounts {
                authority: target.authority,
                spill: target.authority,
                coordinator_instance: r.instance,
                coordinator_account: r.account,
            },
            &coordinator::FreeCoordinator::default(),
        );
        Ok(changed(vec![host.send(&format!("run \"{}\": close", r.run_id), &[ix], &[])?]))
    }

    /// Waits until the run is in `state` (display or variant name), up to `timeout` seconds;
    /// returns the state, or fails on timeout. The run is re-read whenever the node says its
    /// account changed (`accountSubscribe`), and at least every 30 s; without a websocket, once
    /// a second.
    #[rhai_fn(name = "wait_for", return_raw)]
    pub fn wait_for(ctx: NativeCallContext, r: &mut RunHandle, state: &str, timeout: INT) -> Res<String> {
        use crate::chain::pubsub::Pushed;
        use std::sync::mpsc::RecvTimeoutError;
        use std::time::{Duration, Instant};
        const POLL: Duration = Duration::from_secs(1);
        const REREAD: Duration = Duration::from_secs(30);
        let host = host_of(&ctx);
        let wanted = parse_state(state)?;
        let deadline = Instant::now() + Duration::from_secs(timeout.max(0) as u64);
        let (sender, pushes) = std::sync::mpsc::channel();
        // Subscribed before each read, so no change between the read and the wait is missed.
        let mut subscription = host.watch_account(&r.account, sender.clone());
        loop {
            let current = r.fresh_state(&host)?;
            if current == wanted {
                return Ok(current.display().to_string());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(HostError::chain(format!(
                    "run \"{}\" is still {} after {timeout} s (waiting for {})",
                    r.run_id,
                    current.display(),
                    wanted.display()
                ))
                .into());
            }
            let left = deadline - now;
            if subscription.is_none() {
                std::thread::sleep(left.min(POLL));
                subscription = host.watch_account(&r.account, sender.clone());
                continue;
            }
            match pushes.recv_timeout(left.min(REREAD)) {
                Ok(Pushed::Ended) | Err(RecvTimeoutError::Disconnected) => subscription = None,
                // A burst of changes is one re-read.
                Ok(_) => {
                    while let Ok(more) = pushes.try_recv() {
                        if matches!(more, Pushed::Ended) {
                            subscription = None;
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// The run's report, with the shape and key names of upstream's `json-dump-run`
    /// (`info.coordinator_account.status.epoch`); shown as a summary in the REPL and text output.
    #[rhai_fn(name = "info", return_raw)]
    pub fn info(ctx: NativeCallContext, r: &mut RunHandle) -> Res<RunReport> {
        Ok(crate::api::ops::inspect::run_report(&host_of(&ctx), r)?)
    }

    /// A user's report in the shape of upstream's `json-dump-user`.
    #[rhai_fn(name = "user_info", return_raw)]
    pub fn user_info(ctx: NativeCallContext, r: &mut RunHandle, user: PubkeyArg) -> Res<Map> {
        let user = to_pubkey(&user)?;
        let report = from_json(&crate::api::ops::inspect::user_report(&host_of(&ctx), r, &user)?);
        Ok(report.try_cast::<Map>().expect("a user report is a JSON object"))
    }
}
