//! Where human text goes: stderr, filtered by `-q`/`-v`. Standard output is reserved for
//! results (`--output json` documents, decoded accounts, REPL values). Every line passes the
//! execution's redactor first, on the terminal and in the log file alike.
//!
//! A line that cannot be written (a full disk under the log file, or under a file stdout is
//! redirected to) never stops the process with a panic: the first such failure is kept
//! (`write_failure`) and decides the execution's exit code (74).

use crate::cli::OutputMode;
use crate::secrets::redact::Redactor;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Log {
    pub quiet: bool,
    pub verbose: u8,
    pub mode: OutputMode,
    /// The execution's log file: every line, timestamped, whatever `-q` says.
    pub file: Option<Arc<Mutex<std::fs::File>>>,
    /// The secrets this execution loaded, kept out of every line.
    pub redactor: Redactor,
    /// The log file's path, for errors.
    path: Option<std::path::PathBuf>,
    /// The first write that failed (shared by every clone).
    failure: Arc<std::sync::OnceLock<String>>,
}

impl Log {
    pub fn new(quiet: bool, verbose: u8, mode: OutputMode) -> Self {
        Self { quiet, verbose, mode, file: None, redactor: Redactor::default(), path: None, failure: Arc::default() }
    }

    /// Also writes every line to a new file in `dir` (one per execution); returns its path.
    pub fn with_file(mut self, dir: &std::path::Path) -> std::io::Result<(Self, std::path::PathBuf)> {
        crate::files::private::private_dir(dir)?;
        let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let path = dir.join(format!("{ms}-{}.log", std::process::id()));
        self.file = Some(Arc::new(Mutex::new(crate::files::private::create_private(&path)?)));
        self.path = Some(path.clone());
        Ok((self, path))
    }

    /// The first line that could not be written (to the log file, stdout or stderr), if any.
    pub fn write_failure(&self) -> Option<String> {
        self.failure.get().cloned()
    }

    /// Keeps the first write failure and says it once (on stderr, when that works).
    fn failed(&self, what: &str, err: &std::io::Error) {
        let message = format!("{what} could not be written: {err}");
        if self.failure.set(message.clone()).is_ok() {
            let _ = writeln!(std::io::stderr(), "warning: {message}; the execution goes on and ends with exit 74");
        }
    }

    /// A line on stderr; a stderr that cannot be written is a failure like any other file's.
    fn stderr(&self, line: &str) {
        if let Err(err) = writeln!(std::io::stderr(), "{line}") {
            self.failed("standard error", &err);
        }
    }

    /// A line on stdout (results).
    fn stdout(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        if let Err(err) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            self.failed("standard output", &err);
        }
    }

    fn to_file(&self, level: &str, message: &str) {
        if let Some(file) = &self.file {
            let ms =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
            let stamp = crate::chain::journal::timestamp(ms);
            let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
            let written: std::io::Result<()> = match crate::files::faults::disk_full() {
                Some(full) => Err(full),
                None => message.lines().try_for_each(|line| writeln!(f, "{stamp} {level} {line}")),
            };
            drop(f);
            if let Err(err) = written {
                let path = self.path.as_ref().map_or("the execution log".into(), |p| p.display().to_string());
                self.failed(&format!("the execution log {path}"), &err);
            }
        }
    }

    pub fn info(&self, message: &str) {
        let message = self.redactor.text(message);
        self.to_file("INFO", &message);
        if !self.quiet {
            self.stderr(&message);
        }
    }

    pub fn warn(&self, message: &str) {
        let message = self.redactor.text(message);
        self.to_file("WARN", &message);
        if !self.quiet {
            self.stderr(&format!("warning: {message}"));
        }
    }

    pub fn debug(&self, message: &str) {
        let message = self.redactor.text(message);
        self.to_file("DEBUG", &message);
        if self.verbose > 0 {
            self.stderr(&message);
        }
    }

    /// What the operator at the terminal must read to act (approve on a device, check the key
    /// a seed phrase gave): shown whatever `-q` says.
    pub fn tell(&self, message: &str) {
        let message = self.redactor.text(message);
        self.to_file("INFO", &message);
        self.stderr(&message);
    }

    pub fn error(&self, message: &str) {
        let message = self.redactor.text(message);
        self.to_file("ERROR", &message);
        self.stderr(&message);
    }

    /// Prints a result on stdout (a line people read), redacted.
    pub fn result(&self, text: &str) {
        self.stdout(&self.redactor.text(text));
    }

    /// Prints a JSON document on stdout, redacted.
    pub fn document(&self, document: &serde_json::Value) {
        let document = self.redactor.json(document);
        self.stdout(&serde_json::to_string_pretty(&document).expect("JSON documents serialize"));
    }

    pub fn json(&self) -> bool {
        self.mode == OutputMode::Json
    }
}
