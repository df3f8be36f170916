//! Where human text goes: stderr, filtered by `-q`/`-v`. Standard output is reserved for
//! results (`--output json` documents, decoded accounts, REPL values).

use crate::cli::OutputMode;

#[derive(Debug, Clone, Copy)]
pub struct Log {
    pub quiet: bool,
    pub verbose: u8,
    pub mode: OutputMode,
}

impl Log {
    pub fn info(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }

    pub fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("warning: {message}");
        }
    }

    pub fn debug(&self, message: &str) {
        if self.verbose > 0 {
            eprintln!("{message}");
        }
    }

    pub fn error(&self, message: &str) {
        eprintln!("{message}");
    }

    pub fn json(&self) -> bool {
        self.mode == OutputMode::Json
    }
}
