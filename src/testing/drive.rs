//! Tests that drive runbooks: `run_runbook(path, params)` runs one on the test's chain and
//! gives back what it did; `follow(path, params)` runs one and keeps its follow-mode handlers,
//! which `step()` calls for what changed on the chain since the last step (the test causes the
//! changes: `train`, `advance_clock`, `r.pause()`), as `run --follow` would.

use crate::api::host::Host;
use crate::api::ops::follow::observe::{Observed, events, observe};
use crate::api::values::error::HostError;
use crate::api::values::handlers::{Handler, Trigger};
use crate::api::values::json::from_json;
use crate::engine::errors::Diagnostic;
use crate::engine::interrupt::Interrupt;
use crate::engine::{Options, Runtime};
use rhai::{AST, Array, Dynamic, Engine, EvalAltResult, Map, NativeCallContext};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

type Res<T> = Result<T, Box<EvalAltResult>>;

/// A runbook run by a test, on the test's chain.
struct Child {
    runtime: Runtime,
    ast: Option<AST>,
    /// The body's error, rendered as `run` prints it.
    error: Option<String>,
}

impl Child {
    fn run(parent: &Host, path: &str, params: Map) -> Result<Self, HostError> {
        // The test names the runbook it runs (relative to the test file): it is the operator's
        // choice, not the runbook's, so it is not held to the test file's read roots.
        let test_dir = Path::new(&parent.runbook).parent().unwrap_or(Path::new("."));
        let file = test_dir.join(path);
        if !file.is_file() {
            return Err(HostError::input(format!("{path}: no such runbook (from {})", test_dir.display())));
        }
        let constants: Vec<(String, Dynamic)> = params.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let host = Host::new(parent.settings.clone(), parent.log.clone(), &constants, &file);
        host.use_chain(parent.chain()?);
        let base_dir = file.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        let runtime = Runtime::new(host, Options { max_operations: 0, base_dir, interrupt: Interrupt::default() });
        let mut scope = Runtime::scope(&constants, &[]);
        let (result, ast) = match runtime.compile_file(&file, &scope) {
            Ok(ast) => (runtime.run(&mut scope, &ast), Some(ast)),
            Err(diagnostic) => (Err(diagnostic), None),
        };
        let error = result.err().map(|d| runtime.render(&d).trim_end().to_string());
        Ok(Self { runtime, ast, error })
    }

    /// `#{ok, error, outputs, signatures, notifications}`.
    fn report(&self) -> Map {
        let host = &self.runtime.host;
        let mut map = Map::new();
        map.insert("ok".into(), self.error.is_none().into());
        map.insert("error".into(), self.error.clone().map_or(Dynamic::UNIT, Dynamic::from));
        let outputs: Map = host.outputs().iter().map(|(k, v)| (k.into(), from_json(v))).collect();
        map.insert("outputs".into(), outputs.into());
        let signatures: Array = host.sent().into_iter().map(Dynamic::from).collect();
        map.insert("signatures".into(), signatures.into());
        let notifications: Array = host.notifications().iter().map(from_json).collect();
        map.insert("notifications".into(), notifications.into());
        map
    }
}

/// A runbook whose handlers a test calls (`follow(..)`), with what they last saw.
#[derive(Clone)]
pub struct Follower(Arc<Mutex<Following>>);

struct Following {
    child: Child,
    seen: BTreeMap<String, Observed>,
    /// Slot timers (by handler position) → the slot they last ran at.
    timers: BTreeMap<usize, u64>,
}

impl Following {
    fn handlers(&self) -> Vec<Handler> {
        self.child.runtime.host.handlers.all()
    }

    /// Observes every followed run; the first sight of a run is not news.
    fn start(&mut self) -> Result<(), HostError> {
        for handler in self.handlers() {
            if let Some(run) = &handler.run
                && !self.seen.contains_key(&run.run_id)
            {
                let now = observe(&self.child.runtime.host, run, true)?;
                self.seen.insert(run.run_id.clone(), now);
            }
        }
        let slot = self.child.runtime.host.slot()?;
        for (i, handler) in self.handlers().iter().enumerate() {
            if matches!(handler.trigger, Trigger::EverySlots(_)) {
                self.timers.insert(i, slot);
            }
        }
        Ok(())
    }

    /// Calls the handlers for what changed since the last step; what was called, in order.
    fn step(&mut self) -> Result<Array, String> {
        let host = Arc::clone(&self.child.runtime.host);
        let handlers = self.handlers();
        let mut called = Array::new();
        let runs: BTreeMap<String, _> =
            handlers.iter().filter_map(|h| h.run.clone()).map(|r| (r.run_id.clone(), r)).collect();
        for (run_id, run) in runs {
            let thresholds: Vec<f64> = handlers
                .iter()
                .filter(|h| h.run.as_ref().is_some_and(|r| r.run_id == run_id))
                .filter_map(|h| match h.trigger {
                    Trigger::RunwayBelow(t) => Some(t),
                    _ => None,
                })
                .collect();
            let now = observe(&host, &run, !thresholds.is_empty()).map_err(|e| e.message)?;
            let before = self.seen.get(&run_id).cloned().unwrap_or_else(|| now.clone());
            for event in events(&before, &now, &thresholds) {
                for handler in handlers.iter().filter(|h| h.run.as_ref().is_some_and(|r| r.run_id == run_id)) {
                    if event.matches(&handler.trigger) {
                        let label = format!("run \"{run_id}\": {}: {}", event.describe(), handler.trigger.name());
                        self.call(handler, event.args(), &label)?;
                        called.push(label.into());
                    }
                }
            }
            self.seen.insert(run_id, now);
        }
        let slot = host.slot().map_err(|e| e.message)?;
        for (i, handler) in handlers.iter().enumerate() {
            if let Trigger::EverySlots(every) = handler.trigger
                && slot >= self.timers.get(&i).copied().unwrap_or(slot) + every
            {
                let label = format!("slot {slot}: {}", handler.trigger.name());
                self.call(handler, vec![Dynamic::from_int(slot as i64)], &label)?;
                self.timers.insert(i, slot);
                called.push(label.into());
            }
        }
        Ok(called)
    }

    fn call(&self, handler: &Handler, args: Vec<Dynamic>, label: &str) -> Result<(), String> {
        let ast = self.child.ast.as_ref().expect("a runbook with handlers compiled");
        let result = self.child.runtime.call(&handler.callback, ast, args);
        let _ = self.child.runtime.host.finish();
        result
            .map(drop)
            .map_err(|d: Diagnostic| format!("{label} failed:\n{}", self.child.runtime.render(&d).trim_end()))
    }
}

fn failed<T>(message: String) -> Res<T> {
    Err(EvalAltResult::ErrorRuntime(message.into(), rhai::Position::NONE).into())
}

pub fn register(engine: &mut Engine) {
    engine.register_fn("run_runbook", |ctx: NativeCallContext, path: &str| run_runbook(ctx, path, Map::new()));
    engine.register_fn("run_runbook", run_runbook);
    engine.register_type_with_name::<Follower>("Follower");
    engine.register_fn("follow", |ctx: NativeCallContext, path: &str| follow(ctx, path, Map::new()));
    engine.register_fn("follow", follow);
    engine.register_fn("step", |f: &mut Follower| -> Res<Array> {
        let mut following = f.0.lock().unwrap_or_else(|p| p.into_inner());
        following.step().or_else(failed)
    });
    engine.register_fn("report", |f: &mut Follower| f.0.lock().unwrap_or_else(|p| p.into_inner()).child.report());
}

/// Runs the runbook at `path` (relative to the test file) with `params` as its `--set`
/// constants: `#{ok, error, outputs, signatures, notifications}`.
fn run_runbook(ctx: NativeCallContext, path: &str, params: Map) -> Res<Map> {
    Ok(Child::run(&Host::of(&ctx), path, params)?.report())
}

/// Runs the runbook at `path` and keeps its handlers for `step()`; its body must succeed.
fn follow(ctx: NativeCallContext, path: &str, params: Map) -> Res<Follower> {
    let child = Child::run(&Host::of(&ctx), path, params)?;
    if let Some(error) = &child.error {
        return failed(format!("follow: the runbook's body failed:\n{error}"));
    }
    if child.runtime.host.handlers.all().is_empty() {
        return failed(format!("follow: {path} registers no handlers"));
    }
    let mut following = Following { child, seen: BTreeMap::new(), timers: BTreeMap::new() };
    following.start()?;
    Ok(Follower(Arc::new(Mutex::new(following))))
}
