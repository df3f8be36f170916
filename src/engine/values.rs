//! `--set KEY=VALUE` constants: typed the way an operator means them (integers, exact beyond
//! INT as a `BigInt`; floats; true/false; otherwise text; wrap in double quotes to force text).
//! Key material is refused: runbooks never hold keys.

use crate::exit::Failure;
use crate::secrets::key_material::{is_seed_phrase, keypair_bytes, looks_like_key_material};
use rhai::Dynamic;

pub fn parse_set(arg: &str) -> Result<(String, Dynamic), Failure> {
    // Runbooks never hold keys: key material is refused, and never quoted.
    let shown = if looks_like_key_material(arg) { "[redacted]".to_string() } else { format!("{arg:?}") };
    let (key, value) =
        arg.split_once('=').ok_or_else(|| Failure::usage(format!("--set {shown}: expected KEY=VALUE")))?;
    refuse_key_material(value, &format!("--set {}", key.trim()))?;
    let key = key.trim();
    let valid = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(Failure::usage(format!("--set {arg:?}: {key:?} is not a valid variable name")));
    }
    Ok((key.to_string(), typed(value)))
}

/// Refuses a value handed to runbooks (`--set`, words after `--`) that is key material: a
/// keypair as Solana tools write it, or a seed phrase.
pub fn refuse_key_material(value: &str, what: &str) -> Result<(), Failure> {
    let value = value.trim().trim_matches('"');
    if keypair_bytes(value).is_some() || is_seed_phrase(value) {
        return Err(Failure::usage(format!(
            "{what}: the value is key material, and runbooks never hold keys: give a keypair file to `signer(PATH)` or `-k` instead; nothing was sent"
        )));
    }
    Ok(())
}

fn typed(value: &str) -> Dynamic {
    if let Some(text) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        return text.to_string().into();
    }
    match value {
        "true" => return true.into(),
        "false" => return false.into(),
        _ => {}
    }
    if let Ok(i) = value.parse::<rhai::INT>() {
        return i.into();
    }
    if let Ok(big) = value.parse::<i128>() {
        return Dynamic::from(crate::api::values::big_int::BigInt(big));
    }
    if let Ok(f) = value.parse::<rhai::FLOAT>()
        && f.is_finite()
    {
        return f.into();
    }
    value.to_string().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed() {
        assert_eq!(parse_set("n=42").unwrap().1.as_int().unwrap(), 42);
        assert_eq!(parse_set("x=2.5").unwrap().1.as_float().unwrap(), 2.5);
        assert!(parse_set("b=true").unwrap().1.as_bool().unwrap());
        assert_eq!(parse_set("s=\"42\"").unwrap().1.into_string().unwrap(), "42");
        assert_eq!(parse_set("id=my-run").unwrap().1.into_string().unwrap(), "my-run");
        assert_eq!(parse_set("e=").unwrap().1.into_string().unwrap(), "");
        let index = parse_set("index=11211467328114996294").unwrap().1;
        assert_eq!(crate::api::values::big_int::exact(&index), Some(11_211_467_328_114_996_294));
        assert!(parse_set("9x=1").is_err());
        assert!(parse_set("novalue").is_err());
        let key = serde_json::to_string(&[7u8; 64].to_vec()).unwrap();
        let refused = parse_set(&format!("k={key}")).unwrap_err().message;
        assert!(refused.starts_with("--set k: the value is key material") && !refused.contains("7,7"), "{refused}");
        assert!(!parse_set(&key).unwrap_err().message.contains("7,7"));
    }
}
