//! `psyche/alerts` through `runbooks/top-up-cron.rhai` with a webhook receiver on 127.0.0.1:
//! silent while the run is healthy (no transaction, no notification on a re-run), an alert
//! when the run is paused unexpectedly, when a top-up is capped and when the runway is short.

mod common;

use common::Runbook;
use common::webhook::Receiver;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

fn runbook(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

fn cron(rb: &Runbook, sets: &[&str]) -> Value {
    let mut args = vec!["run".to_string(), runbook("top-up-cron.rhai"), "--output".into(), "json".into()];
    for set in sets {
        args.extend(["--set".to_string(), set.to_string()]);
    }
    rb.run_args(args).success().json()
}

#[test]
fn top_up_cron_alerts_only_when_something_is_wrong() {
    let hook = Receiver::start(Duration::ZERO, &[200]);
    let rb = Runbook::new()
        .file("psyche-runbook.toml", &format!("[notify]\nwebhook = \"{}\"\n", hook.url("/hook")))
        .file("pause.rhai", "run(\"quickstart\").pause();\n");
    rb.run_args(["run", &runbook("quickstart.rhai")]).success();

    // Healthy: the first run tops up, the second does nothing at all.
    let first = cron(&rb, &[]);
    assert_eq!(first["outputs"]["alerts"], 0);
    assert_eq!(first["outputs"]["funded_epochs"], 10.0);
    let second = cron(&rb, &[]);
    assert_eq!(second["signatures"], serde_json::json!([]));
    assert_eq!(second["notifications"], serde_json::json!([]));
    assert!(hook.received().is_empty());

    // Paused behind the operator's back: one critical alert, and nothing sent on chain.
    rb.run_args(["run", "pause.rhai"]).success();
    let paused = cron(&rb, &[]);
    assert_eq!(paused["outputs"]["alerts"], 1);
    assert_eq!(paused["signatures"], serde_json::json!([]));
    let received = hook.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body["level"], "critical");
    assert_eq!(received[0].body["message"], "run \"quickstart\" is Paused");
    assert_eq!(received[0].body["fields"], serde_json::json!({"run_id": "quickstart", "state": "Paused"}));
    assert_eq!(paused["notifications"][0]["deliveries"][0]["ok"], true);
    // A pause the operator expects is fine.
    assert_eq!(cron(&rb, &["paused_ok=true"])["outputs"]["alerts"], 0);

    // A top-up capped by max, with the runway under the alert threshold: two warnings.
    let capped = cron(&rb, &["paused_ok=true", "epochs=100", "max=1.5", "alert_epochs=50"]);
    assert_eq!(capped["outputs"]["topped_up"], 1.5);
    assert_eq!(capped["outputs"]["alerts"], 2);
    let received = hook.received();
    let messages: Vec<&str> = received[1..].iter().map(|r| r.body["message"].as_str().unwrap()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].starts_with("run \"quickstart\": the treasury funds "), "{messages:?}");
    assert!(messages[0].ends_with("epoch(s), below 50"), "{messages:?}");
    assert!(messages[1].starts_with("run \"quickstart\": topped up 1.5 but "), "{messages:?}");
    let funded_epochs = received[1].body["fields"]["funded_epochs"].as_f64().unwrap();
    assert_eq!(funded_epochs, capped["outputs"]["funded_epochs"].as_f64().unwrap());
    assert!(received[2].body["fields"]["still_missing"].as_f64().unwrap() > 0.0);
}
