//! `notify`: alerts from runbooks to the webhooks of `[notify]` in `psyche-runbook.toml`. A
//! webhook that is down or slow never fails the runbook: the outcome is logged and listed under
//! `notifications` in the `--output json` document. Dry-runs only say what they would send.
//! Secrets the execution loaded are redacted from the message and fields before anything else.

use crate::api::host::Host;
use crate::api::values::error::HostError;
use crate::api::values::json::to_json;
use crate::notify::deliver::deliver;
use crate::notify::{Level, Notification};
use rhai::plugin::*;
use rhai::{EvalAltResult, INT, Map};
use serde_json::{Value, json};

type Res<T> = Result<T, Box<EvalAltResult>>;

fn send(host: &Host, mut n: Notification) -> Map {
    // What leaves for the webhooks, the log and the JSON document holds no secret.
    n.message = host.redactor().text(&n.message);
    n.fields = n.fields.iter().map(|(k, v)| (host.redactor().text(k), host.redactor().json(v))).collect();
    let line = format!("notify [{}] {}", n.level.name(), n.message);
    match n.level {
        Level::Info => host.log.info(&line),
        Level::Warning | Level::Critical => host.log.warn(&line),
    }
    let deliveries = if host.is_dry_run() {
        host.log.info("[dry-run] the notification was not sent");
        Vec::new()
    } else {
        deliver(&host.settings.notify, &n)
    };
    for d in deliveries.iter().filter(|d| !d.ok) {
        host.log.warn(&format!(
            "notify: {} ({}) failed after {} attempt(s): {}",
            d.target.name(),
            d.host,
            d.attempts,
            d.error.as_deref().unwrap_or("unknown error")
        ));
    }
    let delivered = deliveries.iter().filter(|d| d.ok).count() as INT;
    let failed = deliveries.len() as INT - delivered;
    host.record_notification(json!({
        "level": n.level,
        "message": n.message,
        "fields": n.fields,
        "dry_run": host.is_dry_run(),
        "deliveries": deliveries,
    }));
    let mut outcome = Map::new();
    outcome.insert("delivered".into(), delivered.into());
    outcome.insert("failed".into(), failed.into());
    outcome
}

fn notification(host: &Host, level: Level, message: String, fields: serde_json::Map<String, Value>) -> Notification {
    Notification {
        level,
        message,
        fields,
        runbook: host.runbook.clone(),
        cluster: host.settings.cluster_name().to_string(),
        timestamp: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
    }
}

#[export_module]
pub mod notify_api {
    use super::*;

    /// Sends `message` as a warning to every webhook in `[notify]` (and logs it). Returns
    /// `#{delivered, failed}`: target counts; a failed delivery is reported, never raised.
    ///
    /// ```rhai
    /// notify(`run ${id} is paused`);
    /// ```
    #[rhai_fn(name = "notify")]
    pub fn notify_message(ctx: NativeCallContext, message: &str) -> Map {
        let host = Host::of(&ctx);
        let n = notification(&host, Level::Warning, message.to_string(), serde_json::Map::new());
        send(&host, n)
    }

    /// Sends `#{level, message, fields}`: level is "info", "warning" (the default) or
    /// "critical"; fields (a map) are shown under the message.
    ///
    /// ```rhai
    /// notify(#{ level: "critical", message: "treasury nearly empty", fields: #{ run_id: id, epochs: 0.5 } });
    /// ```
    #[rhai_fn(name = "notify", return_raw)]
    pub fn notify_map(ctx: NativeCallContext, spec: Map) -> Res<Map> {
        let host = Host::of(&ctx);
        let text = |key: &str| spec.get(key).filter(|v| !v.is_unit()).map(|v| v.to_string());
        let message = text("message").ok_or_else(|| HostError::input("notify: message is required"))?;
        let level = match text("level") {
            Some(level) => Level::parse(&level).map_err(HostError::input)?,
            None => Level::Warning,
        };
        let fields = match spec.get("fields").map(to_json) {
            None | Some(Value::Null) => serde_json::Map::new(),
            Some(Value::Object(fields)) => fields,
            Some(other) => return Err(HostError::input(format!("notify: fields must be a map, not {other}")).into()),
        };
        if let Some(unknown) = spec.keys().find(|k| !["level", "message", "fields"].contains(&k.as_str())) {
            return Err(HostError::input(format!("notify: unknown key `{unknown}` (level, message, fields)")).into());
        }
        let n = notification(&host, level, message, fields);
        Ok(send(&host, n))
    }
}
