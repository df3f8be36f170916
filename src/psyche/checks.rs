//! Local copies of the coordinator's sanity checks (`CoordinatorConfig::check`, `Model::check`,
//! the cold-start rule), so a config that the program would refuse is refused before anything
//! is sent, with the key and the rule named.

use crate::psyche::config::{CoordinatorConfig, RunConfig};
use crate::psyche::model::{Checkpoint, DataLocation, HttpLocation, Model, Optimizer};

/// Largest number of witnesses per round, and of clients per epoch.
const MAX_WITNESSES: u16 = 32;
const MAX_CLIENTS: u16 = 256;

/// One broken rule: `key = value: rule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub key: String,
    pub value: String,
    pub rule: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} = {}: {}", self.key, self.value, self.rule)
    }
}

/// All the rules a config breaks, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct Violations(pub Vec<Violation>);

struct Collector(Vec<Violation>);

impl Collector {
    fn rule(&mut self, ok: bool, key: &str, value: impl std::fmt::Display, rule: impl Into<String>) {
        if !ok {
            self.0.push(Violation { key: key.to_string(), value: value.to_string(), rule: rule.into() });
        }
    }
}

/// `CoordinatorConfig::check`.
pub fn check_config(c: &CoordinatorConfig) -> Result<(), Violations> {
    let mut v = Collector(Vec::new());
    config_rules(&mut v, c);
    finish(v)
}

/// `Model::check`.
pub fn check_model(m: &Model) -> Result<(), Violations> {
    let mut v = Collector(Vec::new());
    model_rules(&mut v, m);
    finish(v)
}

/// Everything `update` checks when both config and model change, cold-start rule included.
pub fn check_run_config(rc: &RunConfig) -> Result<(), Violations> {
    let mut v = Collector(Vec::new());
    config_rules(&mut v, &rc.config);
    model_rules(&mut v, &rc.model);
    cold_start_rule(&mut v, &rc.config, &rc.model);
    finish(v)
}

fn finish(v: Collector) -> Result<(), Violations> {
    if v.0.is_empty() { Ok(()) } else { Err(Violations(v.0)) }
}

fn config_rules(v: &mut Collector, c: &CoordinatorConfig) {
    v.rule(
        c.warmup_time < c.epoch_time,
        "config.warmup_time",
        c.warmup_time,
        format!("must be < epoch_time ({})", c.epoch_time),
    );
    v.rule(c.cooldown_time > 0, "config.cooldown_time", c.cooldown_time, "must be > 0");
    v.rule(c.epoch_time > 0, "config.epoch_time", c.epoch_time, "must be > 0");
    v.rule(
        c.max_round_train_time > 0 && c.max_round_train_time < c.epoch_time,
        "config.max_round_train_time",
        c.max_round_train_time,
        format!("must be > 0 and < epoch_time ({})", c.epoch_time),
    );
    v.rule(c.round_witness_time > 0, "config.round_witness_time", c.round_witness_time, "must be > 0");
    v.rule(
        c.waiting_for_members_extra_time > 0,
        "config.waiting_for_members_extra_time",
        c.waiting_for_members_extra_time,
        "must be > 0",
    );
    v.rule(c.min_clients > 0, "config.min_clients", c.min_clients, "must be > 0");
    v.rule(
        c.init_min_clients >= c.min_clients && c.init_min_clients <= MAX_CLIENTS,
        "config.init_min_clients",
        c.init_min_clients,
        format!("must be >= min_clients ({}) and <= {MAX_CLIENTS}", c.min_clients),
    );
    v.rule(
        c.witness_nodes <= c.min_clients && c.witness_nodes <= MAX_WITNESSES,
        "config.witness_nodes",
        c.witness_nodes,
        format!("must be <= min_clients ({}) and <= {MAX_WITNESSES}", c.min_clients),
    );
    v.rule(c.global_batch_size_start > 0, "config.global_batch_size_start", c.global_batch_size_start, "must be > 0");
    v.rule(
        c.global_batch_size_end > 0 && c.global_batch_size_end >= c.global_batch_size_start,
        "config.global_batch_size_end",
        c.global_batch_size_end,
        format!("must be > 0 and >= global_batch_size_start ({})", c.global_batch_size_start),
    );
    v.rule(c.total_steps > 0, "config.total_steps", c.total_steps, "must be > 0");
}

fn model_rules(v: &mut Collector, m: &Model) {
    let llm = m.llm();
    v.rule(llm.max_seq_len > 0, "model.LLM.max_seq_len", llm.max_seq_len, "must be > 0");
    match &llm.checkpoint {
        Checkpoint::Ephemeral => {
            v.rule(false, "model.LLM.checkpoint", "\"Ephemeral\"", "an ephemeral checkpoint cannot start a run")
        }
        Checkpoint::Hub(repo) | Checkpoint::P2P(repo) => {
            let key = format!("model.LLM.checkpoint.{}.repo_id", llm.checkpoint.variant_name());
            v.rule(!repo.repo_id.is_empty(), &key, "\"\"", "must not be empty");
        }
        Checkpoint::Gcs(repo) | Checkpoint::P2PGcs(repo) => {
            let key = format!("model.LLM.checkpoint.{}.bucket", llm.checkpoint.variant_name());
            v.rule(!repo.bucket.is_empty(), &key, "\"\"", "must not be empty");
        }
        Checkpoint::Dummy(_) => {}
    }
    let data = "model.LLM.data_location";
    match &llm.data_location {
        // Upstream accepts any local path, the empty one included.
        DataLocation::Dummy | DataLocation::Local(_) => {}
        DataLocation::Server(s) => v.rule(!s.is_empty(), &format!("{data}.Server"), "\"\"", "must not be empty"),
        DataLocation::WeightedHttp(s) => {
            v.rule(!s.is_empty(), &format!("{data}.WeightedHttp"), "\"\"", "must not be empty")
        }
        DataLocation::Preprocessed(s) => {
            v.rule(!s.is_empty(), &format!("{data}.Preprocessed"), "\"\"", "must not be empty")
        }
        DataLocation::Http(http) => match &http.location {
            HttpLocation::SingleUrl(url) => {
                v.rule(!url.is_empty(), &format!("{data}.Http.location.SingleUrl"), "\"\"", "must not be empty")
            }
            HttpLocation::NumberedFiles { url_template, num_files, .. } => {
                let key = format!("{data}.Http.location.NumberedFiles");
                v.rule(!url_template.is_empty(), &format!("{key}.url_template"), "\"\"", "must not be empty");
                v.rule(*num_files > 0, &format!("{key}.num_files"), num_files, "must be > 0");
            }
            HttpLocation::Gcp { bucket_name, .. } => v.rule(
                !bucket_name.is_empty(),
                &format!("{data}.Http.location.Gcp.bucket_name"),
                "\"\"",
                "must not be empty",
            ),
        },
    }
    v.rule(
        !matches!(llm.optimizer, Optimizer::Dummy),
        "model.LLM.optimizer",
        "\"Dummy\"",
        "the dummy optimizer cannot train a run",
    );
}

fn cold_start_rule(v: &mut Collector, c: &CoordinatorConfig, m: &Model) {
    let steps = m.llm().cold_start_warmup_steps;
    if steps == 0 || c.max_round_train_time == 0 {
        return;
    }
    let limit = c.epoch_time.saturating_sub(c.warmup_time) / c.max_round_train_time;
    v.rule(
        u64::from(steps) <= limit,
        "model.LLM.cold_start_warmup_steps",
        steps,
        format!(
            "must be <= (epoch_time - warmup_time) / max_round_train_time = ({} - {}) / {} = {limit}",
            c.epoch_time, c.warmup_time, c.max_round_train_time
        ),
    );
}
