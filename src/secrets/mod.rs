//! Secrets stay in the host. `key_material` recognises text that may be a key, so errors about
//! files never quote it; `redact` keeps every loaded secret out of whatever leaves the engine.

pub mod key_material;
pub mod redact;
