//! The body each kind of webhook expects: the notification itself as JSON for a generic
//! webhook, `text` for Slack's incoming webhooks, `content` (at most 2,000 characters) for
//! Discord's.

use crate::notify::{Format, Notification};
use serde_json::{Value, json};

/// Discord refuses longer `content`.
const DISCORD_MAX_CHARS: usize = 2_000;

/// One line per field after the message, values as JSON prints them (strings unquoted).
fn text(n: &Notification) -> String {
    let mut out = format!("[{}] {}\n{} on {}", n.level.name().to_uppercase(), n.message, n.runbook, n.cluster);
    for (key, value) in &n.fields {
        let value = value.as_str().map_or_else(|| value.to_string(), str::to_string);
        out += &format!("\n{key}: {value}");
    }
    out
}

pub fn body(format: Format, n: &Notification) -> Value {
    match format {
        Format::Webhook => serde_json::to_value(n).expect("notifications serialize"),
        Format::Slack => json!({ "text": text(n) }),
        Format::Discord => {
            let mut content = text(n);
            if content.chars().count() > DISCORD_MAX_CHARS {
                content = content.chars().take(DISCORD_MAX_CHARS - 1).collect::<String>() + "…";
            }
            json!({ "content": content, "username": "psyche-runbook" })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Level;

    fn notification(message: &str) -> Notification {
        let mut fields = serde_json::Map::new();
        fields.insert("run_id".into(), json!("r1"));
        fields.insert("epochs".into(), json!(2.5));
        Notification {
            level: Level::Warning,
            message: message.into(),
            fields,
            runbook: "cron.rhai".into(),
            cluster: "devnet".into(),
            timestamp: 7,
        }
    }

    #[test]
    fn each_format_has_its_shape() {
        let n = notification("runway low");
        let webhook = body(Format::Webhook, &n);
        assert_eq!(webhook["level"], "warning");
        assert_eq!(webhook["fields"]["epochs"], 2.5);
        assert_eq!(webhook["timestamp"], 7);
        assert_eq!(
            body(Format::Slack, &n)["text"],
            "[WARNING] runway low\ncron.rhai on devnet\nepochs: 2.5\nrun_id: r1"
        );
        let long = body(Format::Discord, &notification(&"x".repeat(5_000)));
        assert_eq!(long["content"].as_str().unwrap().chars().count(), DISCORD_MAX_CHARS);
    }
}
