//! What a mutating host function reports: `#{changed, signatures}` (plus any details), so a
//! runbook, and a second run of it, can tell what it did.

use rhai::{Array, Dynamic, Map};

pub fn changed(signatures: Vec<String>) -> Map {
    let mut map = Map::new();
    map.insert("changed".into(), (!signatures.is_empty()).into());
    map.insert("signatures".into(), signatures.into_iter().map(Dynamic::from).collect::<Array>().into());
    map
}

pub fn unchanged() -> Map {
    changed(Vec::new())
}

/// Adds a detail to an outcome.
pub fn with(mut map: Map, key: &str, value: impl Into<Dynamic>) -> Map {
    map.insert(key.into(), value.into());
    map
}
