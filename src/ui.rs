//! Where human text goes: stderr, filtered by `-q`/`-v`. Standard output is reserved for
//! results (`--output json` documents, decoded accounts, REPL values). Every line passes the
//! execution's redactor first, on the terminal and in the log file alike.

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
}

impl Log {
    pub fn new(quiet: bool, verbose: u8, mode: OutputMode) -> Self {
        Self { quiet, verbose, mode, file: None, redactor: Redactor::default() }
    }

    /// Also writes every line to a new file in `dir` (one per execution); returns its path.
    pub fn with_file(mut self, dir: &std::path::Path) -> std::io::Result<(Self, std::path::PathBuf)> {
        crate::files::private::private_dir(dir)?;
        let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let path = dir.join(format!("{ms}-{}.log", std::process::id()));
        self.file = Some(Arc::new(Mutex::new(crate::files::private::create_private(&path)?)));
        Ok((self, path))
    }

    fn to_file(&self, level: &str, message: &str) {
        if let Some(file) = &self.file {
            let ms =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
            let stamp = crate::chain::journal::timestamp(ms);
            if let Ok(mut f) = file.lock() {
                for line in message.lines() {
                    let _ = writeln!(f, "{stamp} {level} {line}");
                }
            }
        }
    }

    pub fn info(&self, message: &str) {
        let message = self.redactor.text(message);
        self.to_file("INFO", &message);
        if !self.quiet {
            eprintln!("{message}");
        }
    }

    pub fn warn(&self, message: &str) {
        let message = self.redactor.text(message);
        self.to_file("WARN", &message);
        if !self.quiet {
            eprintln!("warning: {message}");
        }
    }

    pub fn debug(&self, message: &str) {
        let message = self.redactor.text(message);
        self.to_file("DEBUG", &message);
        if self.verbose > 0 {
            eprintln!("{message}");
        }
    }

    /// What the operator at the terminal must read to act (approve on a device, check the key
    /// a seed phrase gave): shown whatever `-q` says.
    pub fn tell(&self, message: &str) {
        let message = self.redactor.text(message);
        self.to_file("INFO", &message);
        eprintln!("{message}");
    }

    pub fn error(&self, message: &str) {
        let message = self.redactor.text(message);
        self.to_file("ERROR", &message);
        eprintln!("{message}");
    }

    /// Prints a result on stdout (a line people read), redacted.
    pub fn result(&self, text: &str) {
        println!("{}", self.redactor.text(text));
    }

    /// Prints a JSON document on stdout, redacted.
    pub fn document(&self, document: &serde_json::Value) {
        let document = self.redactor.json(document);
        println!("{}", serde_json::to_string_pretty(&document).expect("JSON documents serialize"));
    }

    pub fn json(&self) -> bool {
        self.mode == OutputMode::Json
    }
}
