//! The text of every script the engine compiled (runbook, imported files, stdlib modules),
//! keyed by the name errors show, so diagnostics can print the offending line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub struct Sources(Arc<Mutex<HashMap<String, Arc<str>>>>);

impl Sources {
    pub fn insert(&self, name: &str, text: &str) {
        self.0.lock().expect("sources lock").insert(name.to_string(), Arc::from(text));
    }

    pub fn get(&self, name: &str) -> Option<Arc<str>> {
        self.0.lock().expect("sources lock").get(name).cloned()
    }
}

/// Blanks a leading `#!` line (keeping the newline, so line numbers stay true).
pub fn strip_shebang(text: &str) -> String {
    if text.starts_with("#!") {
        match text.find('\n') {
            Some(n) => text[n..].to_string(),
            None => String::new(),
        }
    } else {
        text.to_string()
    }
}
