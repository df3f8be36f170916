//! The journal: one NDJSON file per execution under `.psyche-runbook/journal/`. Before a
//! transaction is sent its intent is written (with its signature, computed before sending, and
//! the last block height its blockhash is valid for), then whether it landed. Every write is
//! fsynced (a bulk send writes a round's intents, or a poll's outcomes, with one), so after a
//! SIGKILL the next execution knows which transactions may still be in
//! flight and settles them before sending anything. A journal that ends with nothing left
//! unsettled says so in its last line, so later executions read only that line of it. Records
//! pass the execution's redactor and the files are only their owner's.
//!
//! A record that cannot be written (a full disk, an I/O error) is an error naming the file: an
//! intent that is not on disk is never sent, and the execution ends saying so (`failure`).

use crate::chain::identity::Identity;
use crate::files::private::{private_dir, private_options};
use crate::secrets::redact::Redactor;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

pub struct Journal {
    file: Mutex<File>,
    path: PathBuf,
    /// The first write that failed, kept for the execution's end.
    failure: std::sync::OnceLock<JournalError>,
    next_id: AtomicU64,
    redactor: Redactor,
    /// Intents without an outcome yet.
    unsettled: AtomicI64,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// `2026-11-25T13:01:02Z` from unix milliseconds (UTC, proleptic Gregorian).
pub fn timestamp(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Days to civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// A journal record that could not be written.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the journal {path} could not be written: {cause}")]
pub struct JournalError {
    pub path: PathBuf,
    pub cause: String,
}

/// What became of a journaled intent.
#[derive(Debug, Clone)]
pub enum Outcome {
    Landed,
    Failed(String),
    /// Its blockhash expired without it landing.
    Expired,
}

/// A transaction whose intent was journaled but whose outcome was not.
#[derive(Debug, Clone)]
pub struct Pending {
    pub journal: PathBuf,
    pub id: u64,
    pub what: String,
    pub signature: String,
    pub last_valid_block_height: u64,
}

/// Whether a journal is of this execution's cluster: given the cluster key its start record
/// holds (None in journals of earlier releases) and the cluster name it holds.
pub type Owns<'a> = dyn Fn(Option<&str>, &str) -> bool + 'a;

impl Journal {
    /// Starts the journal of a new execution on the cluster `identity`.
    pub fn create(dir: &Path, identity: &Identity, runbook: &str) -> std::io::Result<Self> {
        private_dir(dir)?;
        let ms = now_ms();
        let path = dir.join(format!("{ms}-{}.ndjson", std::process::id()));
        let file = private_options().create_new(true).append(true).open(&path)?;
        let journal = Self {
            file: Mutex::new(file),
            path,
            failure: std::sync::OnceLock::new(),
            next_id: AtomicU64::new(1),
            redactor: Redactor::default(),
            unsettled: AtomicI64::new(0),
        };
        journal
            .write(json!({
                "event": "start", "cluster": identity.name, "cluster_id": identity.key, "runbook": runbook,
                "pid": std::process::id(),
            }))
            .map_err(|e| std::io::Error::other(e.cause))?;
        Ok(journal)
    }

    /// The first record that could not be written, if one could not.
    pub fn failure(&self) -> Option<&JournalError> {
        self.failure.get()
    }

    /// Redacts what `redactor` knows from every later record.
    pub fn redacting(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }

    fn write(&self, record: Value) -> Result<(), JournalError> {
        self.write_all(vec![record])
    }

    /// Writes `records` with one write and one fsync: bulk sends journal a whole round of
    /// intents (or a poll's outcomes) at the cost of one record.
    fn write_all(&self, records: Vec<Value>) -> Result<(), JournalError> {
        if records.is_empty() {
            return Ok(());
        }
        let ts = json!(now_ms());
        let lines: String = crate::chain::parallel::map(&records, |record| {
            let mut record = self.redactor.json(record);
            record["ts"] = ts.clone();
            record.to_string() + "\n"
        })
        .concat();
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // A journal that cannot be written must not be silently skipped: sending continues only
        // with its record on disk.
        let written = match crate::files::faults::disk_full() {
            Some(full) => Err(full),
            None => file.write_all(lines.as_bytes()).and_then(|()| file.sync_data()),
        };
        written.map_err(|e| {
            let error = JournalError { path: self.path.clone(), cause: e.to_string() };
            let _ = self.failure.set(error.clone());
            error
        })
    }

    /// Records what is about to be sent; returns the id later records refer to. Nothing may be
    /// sent when this fails.
    pub fn intent(
        &self,
        what: &str,
        signature: &str,
        last_valid_block_height: u64,
        message: &[u8],
    ) -> Result<u64, JournalError> {
        Ok(self.intents(what, last_valid_block_height, &[(signature.to_string(), message.to_vec())])?[0])
    }

    /// Records a batch of transactions about to be sent (`(signature, message)` each), all on
    /// disk before this returns; their ids, in order. Nothing may be sent when this fails.
    pub fn intents(
        &self,
        what: &str,
        last_valid_block_height: u64,
        txs: &[(String, Vec<u8>)],
    ) -> Result<Vec<u64>, JournalError> {
        use base64::Engine as _;
        let mut ids = Vec::with_capacity(txs.len());
        let records = txs
            .iter()
            .map(|(signature, message)| {
                let id = self.next_id.fetch_add(1, Ordering::SeqCst);
                ids.push(id);
                json!({
                    "event": "intent", "id": id, "what": what, "signature": signature,
                    "last_valid_block_height": last_valid_block_height,
                    "message": base64::engine::general_purpose::STANDARD.encode(message),
                })
            })
            .collect();
        self.write_all(records)?;
        self.unsettled.fetch_add(txs.len() as i64, Ordering::SeqCst);
        Ok(ids)
    }

    /// The outcome of intent `id`. One that cannot be written leaves the intent for the next
    /// execution to settle (and the failure for this one's end).
    pub fn settle(&self, id: u64, signature: &str, outcome: Outcome) {
        self.settle_all(&[(id, signature.to_string(), outcome)]);
    }

    /// Records the outcomes of intents `(id, signature, outcome)` with one fsync.
    pub fn settle_all(&self, outcomes: &[(u64, String, Outcome)]) {
        let records = outcomes
            .iter()
            .map(|(id, signature, outcome)| match outcome {
                Outcome::Landed => json!({"event": "landed", "id": id, "signature": signature}),
                Outcome::Failed(error) => {
                    json!({"event": "failed", "id": id, "signature": signature, "error": error})
                }
                Outcome::Expired => json!({"event": "expired", "id": id, "signature": signature}),
            })
            .collect();
        if self.write_all(records).is_ok() {
            self.unsettled.fetch_sub(outcomes.len() as i64, Ordering::SeqCst);
        }
    }

    pub fn end(&self, exit_code: i32, sent: usize) {
        let unsettled = self.unsettled.load(Ordering::SeqCst).max(0);
        let _ = self.write(json!({"event": "end", "exit_code": exit_code, "sent": sent, "unsettled": unsettled}));
    }
}

fn records(path: &Path) -> Vec<Value> {
    let Ok(file) = File::open(path) else { return Vec::new() };
    // A torn last line (killed mid-write) is skipped.
    BufReader::new(file).lines().map_while(Result::ok).filter_map(|l| serde_json::from_str(&l).ok()).collect()
}

/// Journal files, oldest first.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "ndjson"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The last whole record of a journal, read from its end.
fn last_record(path: &Path) -> Option<Value> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(4096))).ok()?;
    let mut tail = String::new();
    file.read_to_string(&mut tail).ok()?;
    serde_json::from_str(tail.lines().rev().find(|l| !l.trim().is_empty())?).ok()
}

/// True when a journal's last line says nothing in it is left unsettled (an execution that
/// ended with every outcome known, or whose leftovers a later one settled).
fn closed(path: &Path) -> bool {
    last_record(path).is_some_and(|r| (r["event"] == "end" || r["event"] == "settled") && r["unsettled"] == 0)
}

/// Intents without a recorded outcome in the journals `ours` claims.
pub fn pending(dir: &Path, ours: &Owns) -> Vec<Pending> {
    let mut out = Vec::new();
    for path in files(dir) {
        if closed(&path) {
            continue;
        }
        let records = records(&path);
        let Some(start) = records.first() else { continue };
        if !ours(start["cluster_id"].as_str(), start["cluster"].as_str().unwrap_or_default()) {
            continue;
        }
        let outcomes: HashSet<u64> =
            records.iter().filter(|r| r["event"] != "intent").filter_map(|r| r["id"].as_u64()).collect();
        for intent in records.iter().filter(|r| r["event"] == "intent") {
            let id = intent["id"].as_u64().unwrap_or(0);
            if !outcomes.contains(&id) {
                out.push(Pending {
                    journal: path.clone(),
                    id,
                    what: intent["what"].as_str().unwrap_or_default().to_string(),
                    signature: intent["signature"].as_str().unwrap_or_default().to_string(),
                    last_valid_block_height: intent["last_valid_block_height"].as_u64().unwrap_or(0),
                });
            }
        }
    }
    out
}

/// Keeps the newest `keep` files with `extension` in `dir` (journals and execution logs of
/// frequent cron runs would otherwise pile up). Call after pending intents are settled.
pub fn prune(dir: &Path, extension: &str, keep: usize) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == extension))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let excess = files.len().saturating_sub(keep);
    for old in &files[..excess] {
        let _ = std::fs::remove_file(old);
    }
}

/// Marks a journal whose pending intents were all settled by a later execution.
pub fn mark_settled(path: &Path) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
    let record = json!({"event": "settled", "unsettled": 0, "ts": now_ms()});
    file.write_all(format!("{record}\n").as_bytes())?;
    file.sync_data()
}

/// Appends the outcome of a pending intent found later to the journal that made it.
pub fn settle(pending: &Pending, event: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().append(true).open(&pending.journal)?;
    let record =
        json!({"event": event, "id": pending.id, "signature": pending.signature, "recovered": true, "ts": now_ms()});
    file.write_all(format!("{record}\n").as_bytes())?;
    file.sync_data()
}

/// A cluster's key, its name, and its journals with their records.
type ClusterJournals = (String, String, Vec<(PathBuf, Vec<Value>)>);

/// `journal show`: the executions (or only the last) grouped by cluster, one line per record.
/// `on_chain` tells whether a cluster's history holds a signature, given the cluster's key, where
/// it can (the embedded localnet keeps every landed transaction): a landing it no longer holds
/// is marked.
pub fn show(dir: &Path, last: bool, on_chain: &dyn Fn(&str, &str) -> Option<bool>) -> String {
    let mut files = files(dir);
    if last {
        files = files.split_off(files.len().saturating_sub(1));
    }
    // Journals of one cluster together, clusters in the order they were first used.
    let mut clusters: Vec<ClusterJournals> = Vec::new();
    for path in files {
        let records = records(&path);
        let start = records.iter().find(|r| r["event"] == "start");
        let name = start.and_then(|r| r["cluster"].as_str()).unwrap_or("").to_string();
        // Earlier releases keyed journals by name alone.
        let key = start.and_then(|r| r["cluster_id"].as_str()).map_or_else(|| name.clone(), str::to_string);
        match clusters.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, journals)) => journals.push((path, records)),
            None => clusters.push((key, name, vec![(path, records)])),
        }
    }
    let mut out = String::new();
    for (key, name, journals) in clusters {
        out += &format!("cluster {name} ({} execution(s))\n", journals.len());
        for (path, records) in journals {
            out += &format!("== {}\n", path.display());
            for r in &records {
                out += &format!("{}  {}\n", timestamp(r["ts"].as_u64().unwrap_or(0)), describe(r, &key, on_chain));
            }
        }
    }
    out
}

/// One journal record as `journal show` prints it.
fn describe(r: &Value, key: &str, on_chain: &dyn Fn(&str, &str) -> Option<bool>) -> String {
    let text = |field: &str| r[field].as_str().unwrap_or_default().to_string();
    let recovered = |yes: &'static str| if r["recovered"] == true { yes } else { "" };
    match r["event"].as_str().unwrap_or_default() {
        "start" => format!("start {} on {}", text("runbook"), text("cluster")),
        "intent" => format!("#{} send {}: {}", r["id"], text("what"), text("signature")),
        "landed" => format!(
            "#{} landed{}{}",
            r["id"],
            recovered(" (found by a later run)"),
            match on_chain(key, &text("signature")) {
                Some(true) => ", in the chain's history",
                Some(false) => "; not in the chain's history (reset or pruned since)",
                None => "",
            }
        ),
        "failed" => format!("#{} failed: {}", r["id"], text("error")),
        "expired" => format!("#{} expired without landing{}", r["id"], recovered(" (found by a later run)")),
        "end" => format!("end: exit {}, {} transaction(s) sent", r["exit_code"], r["sent"]),
        "settled" => "every transaction left in flight is settled (by a later run)".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded() -> Identity {
        Identity::embedded(Path::new("/tmp/localnet"))
    }

    /// Claims the journals `embedded()` starts.
    fn ours(key: Option<&str>, _: &str) -> bool {
        key == Some(embedded().key.as_str())
    }

    #[test]
    fn timestamps_are_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_795_611_662_000), "2026-11-25T13:01:02Z");
    }

    #[test]
    fn a_batch_of_intents_and_its_outcomes_are_one_write_each() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path(), &embedded(), "r.rhai").unwrap();
        let txs: Vec<(String, Vec<u8>)> = (0..3).map(|i| (format!("sig{i}"), vec![i])).collect();
        let ids = journal.intents("batch transaction", 10, &txs).unwrap();
        assert_eq!(ids, vec![1, 2, 3]);
        let found = pending(dir.path(), &ours);
        assert_eq!(found.iter().map(|p| p.signature.as_str()).collect::<Vec<_>>(), ["sig0", "sig1", "sig2"]);
        assert!(found.iter().all(|p| p.last_valid_block_height == 10 && p.what == "batch transaction"));
        journal.settle_all(&[
            (1, "sig0".into(), Outcome::Landed),
            (2, "sig1".into(), Outcome::Failed("no".into())),
            (3, "sig2".into(), Outcome::Expired),
        ]);
        assert!(pending(dir.path(), &ours).is_empty());
        journal.end(0, 3);
        let path = files(dir.path()).pop().unwrap();
        assert!(closed(&path), "nothing is left unsettled");
        let events: Vec<String> = records(&path).iter().map(|r| r["event"].as_str().unwrap().to_string()).collect();
        assert_eq!(events, ["start", "intent", "intent", "intent", "landed", "failed", "expired", "end"]);
    }

    #[test]
    fn unsettled_intents_are_pending() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path(), &embedded(), "r.rhai").unwrap();
        let a = journal.intent("a", "sigA", 10, b"m").unwrap();
        let b = journal.intent("b", "sigB", 10, b"m").unwrap();
        journal.settle(a, "sigA", Outcome::Landed);
        let pending = pending(dir.path(), &ours);
        assert_eq!(pending.len(), 1);
        assert_eq!((pending[0].id, pending[0].signature.as_str()), (b, "sigB"));
        settle(&pending[0], "expired").unwrap();
        assert!(super::pending(dir.path(), &ours).is_empty());
        let shown = show(dir.path(), true, &|_, _| None);
        assert!(shown.starts_with("cluster embedded (1 execution(s))\n"), "{shown}");
        assert!(shown.contains("#2 expired without landing (found by a later run)"), "{shown}");
    }

    #[test]
    fn journals_of_other_clusters_and_earlier_releases_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path(), &embedded(), "r.rhai").unwrap();
        journal.intent("a", "sigA", 10, b"m").unwrap();
        // An earlier release's journal: a name, no key.
        std::fs::write(
            dir.path().join("1-1.ndjson"),
            "{\"event\":\"start\",\"cluster\":\"devnet\",\"runbook\":\"r\",\"ts\":1}\n{\"event\":\"intent\",\"id\":1,\"what\":\"b\",\"signature\":\"sigB\",\"last_valid_block_height\":5,\"ts\":2}\n",
        )
        .unwrap();
        let devnet = |key: Option<&str>, name: &str| key.is_none() && name == "devnet";
        assert_eq!(pending(dir.path(), &devnet).iter().map(|p| p.signature.as_str()).collect::<Vec<_>>(), ["sigB"]);
        assert_eq!(pending(dir.path(), &ours).iter().map(|p| p.signature.as_str()).collect::<Vec<_>>(), ["sigA"]);
        let shown = show(dir.path(), false, &|_, _| None);
        assert!(shown.starts_with("cluster devnet (1 execution(s))\n"), "{shown}");
        assert!(shown.contains("cluster embedded (1 execution(s))\n"), "{shown}");
    }
}
