//! The redactor: every secret the engine has loaded (a signer's key, the text it was given as,
//! a seed phrase) is replaced by `[redacted]` in whatever leaves the engine. Output edges
//! (the log and its file, stdout documents, the journal, webhooks, metrics, errors handed to
//! scripts) pass their text through it.
//!
//! A key is found in any of its forms, whole or in part: a run of at least 8 of its secret bytes
//! as numbers (JSON arrays, however spaced), 16 or more characters of its base58 or hex form,
//! 3 or more consecutive words of a seed phrase. The whole number run or token holding a match
//! is replaced. The public half of a keypair is not secret and is left alone.
//!
//! One redactor is shared (cheap clones) by everything of one execution; it learns secrets as
//! signers load.

use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Consecutive secret bytes that count as a piece of a key.
const BYTE_WINDOW: usize = 8;
/// Consecutive characters of a key's base58 or hex form that count as a piece of it.
const TEXT_WINDOW: usize = 16;
/// Consecutive words of a seed phrase that count as a piece of it.
const WORD_WINDOW: usize = 3;
/// Raw secret texts (passphrases) shorter than this are not looked for: they would match
/// ordinary words.
const MIN_RAW_TEXT: usize = 6;
/// A URL's user name or password shorter than this is not looked for alone (the URL whole is).
const MIN_URL_PART: usize = 4;

#[derive(Default)]
struct Known {
    /// Every `BYTE_WINDOW` run of secret bytes.
    byte_windows: HashSet<Vec<u8>>,
    /// Every `TEXT_WINDOW` piece of a base58 form (case-sensitive) or a hex form (lowercase).
    text_windows: HashSet<Vec<u8>>,
    /// Every `WORD_WINDOW` run of a seed phrase's words.
    word_windows: HashSet<Vec<String>>,
    /// Exact texts (passphrases).
    raw: Vec<String>,
}

/// Shared, growing set of secrets to keep from every output.
#[derive(Clone, Default)]
pub struct Redactor {
    known: Arc<RwLock<Known>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Redactor {
    /// Learns a keypair from its 64 bytes (secret half, then public half), or a bare 32-byte
    /// secret.
    pub fn learn_key(&self, bytes: &[u8]) {
        let secret = &bytes[..bytes.len().min(32)];
        let mut known = self.known.write().expect("redactor lock");
        for window in secret.windows(BYTE_WINDOW) {
            known.byte_windows.insert(window.to_vec());
        }
        // Base58 mixes every byte into every character: any piece of it is secret.
        for form in [bs58::encode(bytes).into_string(), bs58::encode(secret).into_string()] {
            for window in form.as_bytes().windows(TEXT_WINDOW) {
                known.text_windows.insert(window.to_vec());
            }
        }
        // Hex keeps bytes apart: only pieces that hold secret bytes.
        let hex_form = hex(bytes);
        let secret_chars = secret.len() * 2;
        for (start, window) in hex_form.as_bytes().windows(TEXT_WINDOW).enumerate() {
            if start + TEXT_WINDOW <= secret_chars {
                known.text_windows.insert(window.to_vec());
            }
        }
    }

    /// Learns a seed phrase (its words, whatever the spacing).
    pub fn learn_phrase(&self, phrase: &str) {
        let words: Vec<String> = phrase.split_whitespace().map(str::to_lowercase).collect();
        let mut known = self.known.write().expect("redactor lock");
        for window in words.windows(WORD_WINDOW) {
            known.word_windows.insert(window.to_vec());
        }
    }

    /// Learns a secret text to find exactly (a seed phrase's passphrase).
    pub fn learn_text(&self, text: &str) {
        if text.chars().count() >= MIN_RAW_TEXT {
            self.known.write().expect("redactor lock").raw.push(text.to_string());
        }
    }

    /// Learns the credentials an RPC or websocket URL may carry: the URL whole, its user info,
    /// and its path segments and query values of 8 characters or more (as written and decoded).
    pub fn learn_url(&self, url: &crate::chain::cluster::RpcUrl) {
        let parts = url.secret_parts();
        if parts.is_empty() {
            return;
        }
        let mut known = self.known.write().expect("redactor lock");
        let whole = url.expose().to_string();
        let parts = parts.into_iter().filter(|p| p.chars().count() >= MIN_URL_PART);
        for secret in std::iter::once(whole).chain(parts) {
            if !known.raw.contains(&secret) {
                known.raw.push(secret);
            }
        }
    }

    /// Learns whatever of `text` is key material in a form Solana tools write it.
    pub fn learn_if_key(&self, text: &str) {
        if let Some(bytes) = crate::secrets::key_material::keypair_bytes(text) {
            self.learn_key(&bytes);
        }
    }

    /// True when `data` (an instruction's bytes, say) holds a known secret: 8 secret bytes of a
    /// key as they are, or any secret in text form.
    pub fn holds_secret(&self, data: &[u8]) -> bool {
        let raw_key = {
            let known = self.known.read().expect("redactor lock");
            data.windows(BYTE_WINDOW).any(|w| known.byte_windows.contains(w))
        };
        let text = String::from_utf8_lossy(data);
        raw_key || self.text(&text) != text
    }

    /// `text` with every known secret replaced by `[redacted]`.
    pub fn text(&self, text: &str) -> String {
        let known = self.known.read().expect("redactor lock");
        if known.byte_windows.is_empty() && known.word_windows.is_empty() && known.raw.is_empty() {
            return text.to_string();
        }
        let mut spans = Vec::new();
        number_runs(text, &known, &mut spans);
        tokens(text, &known, &mut spans);
        words(text, &known, &mut spans);
        for secret in &known.raw {
            spans.extend(text.match_indices(secret.as_str()).map(|(at, s)| (at, at + s.len())));
        }
        replace(text, spans)
    }

    /// `value` with every known secret redacted: in strings, and arrays of numbers holding a
    /// piece of a key become the string `[redacted]`.
    pub fn json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_number) => {
                let text = items.iter().map(Value::to_string).collect::<Vec<_>>().join(",");
                if self.text(&text) == text { value.clone() } else { Value::String(REDACTED.into()) }
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.json(v)).collect()),
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (self.text(k), self.json(v))).collect()),
            other => other.clone(),
        }
    }
}

/// Runs of small numbers separated by commas and whitespace (`[12, 34, …]`, pretty-printed or
/// not) that hold `BYTE_WINDOW` consecutive secret bytes: the whole run, brackets included.
fn number_runs(text: &str, known: &Known, spans: &mut Vec<(usize, usize)>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // A run starts at a number not glued to a word or a decimal point.
        if !bytes[i].is_ascii_digit() || (i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.')) {
            i += 1;
            continue;
        }
        let start = i;
        let mut values = Vec::new();
        let mut end = i;
        let mut j = i;
        loop {
            let digits = bytes[j..].iter().take_while(|b| b.is_ascii_digit()).count();
            let after = j + digits;
            let glued = after < bytes.len() && (bytes[after].is_ascii_alphabetic() || bytes[after] == b'.');
            let value = text[j..after].parse::<u16>().ok().filter(|v| *v <= 255 && digits <= 3);
            match value {
                Some(v) if !glued => values.push(v as u8),
                _ => break,
            }
            end = after;
            let gap = bytes[after..].iter().take_while(|b| **b == b',' || b.is_ascii_whitespace()).count();
            if gap == 0 || !bytes[after..after + gap].contains(&b',') {
                break;
            }
            j = after + gap;
            if j >= bytes.len() || !bytes[j].is_ascii_digit() {
                break;
            }
        }
        if values.windows(BYTE_WINDOW).any(|w| known.byte_windows.contains(w)) {
            let open = text[..start].trim_end().len();
            let from = if text[..open].ends_with('[') { open - 1 } else { start };
            let close = end + text[end..].len() - text[end..].trim_start().len();
            let to = if text[close..].starts_with(']') { close + 1 } else { end };
            spans.push((from, to));
        }
        i = end.max(start + 1);
    }
}

/// Alphanumeric tokens holding `TEXT_WINDOW` characters of a base58 or hex form.
fn tokens(text: &str, known: &Known, spans: &mut Vec<(usize, usize)>) {
    if known.text_windows.is_empty() {
        return;
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let token = &bytes[start..i];
        let lower = token.to_ascii_lowercase();
        let found = token.windows(TEXT_WINDOW).any(|w| known.text_windows.contains(w))
            || lower.windows(TEXT_WINDOW).any(|w| known.text_windows.contains(w));
        if found {
            spans.push((start, i));
        }
    }
}

/// Runs of `WORD_WINDOW` consecutive words of a seed phrase.
fn words(text: &str, known: &Known, spans: &mut Vec<(usize, usize)>) {
    if known.word_windows.is_empty() {
        return;
    }
    let found: Vec<(usize, usize, String)> = text
        .split_whitespace()
        // Punctuation around a word (`abuse;`) does not hide it.
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(|w| {
            let at = w.as_ptr() as usize - text.as_ptr() as usize;
            (at, at + w.len(), w.to_lowercase())
        })
        .collect();
    for window in found.windows(WORD_WINDOW) {
        let words: Vec<String> = window.iter().map(|(_, _, w)| w.clone()).collect();
        if known.word_windows.contains(&words) {
            spans.push((window[0].0, window[WORD_WINDOW - 1].1));
        }
    }
}

/// `text` with the (possibly overlapping) byte spans replaced, each merged span once.
fn replace(text: &str, mut spans: Vec<(usize, usize)>) -> String {
    if spans.is_empty() {
        return text.to_string();
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut current: Option<(usize, usize)> = None;
    for (from, to) in spans {
        match current {
            Some((_, end)) if from <= end => current = current.map(|(start, end)| (start, end.max(to))),
            _ => {
                if let Some((start, end)) = current {
                    out.push_str(&text[at..start]);
                    out.push_str(REDACTED);
                    at = end;
                }
                current = Some((from, to));
            }
        }
    }
    if let Some((start, end)) = current {
        out.push_str(&text[at..start]);
        out.push_str(REDACTED);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Vec<u8> {
        (0..64u32).map(|i| (i * 37 + 11) as u8).collect()
    }

    #[test]
    fn every_form_of_a_key_is_redacted_whole_or_in_part() {
        let r = Redactor::default();
        let bytes = key();
        r.learn_key(&bytes);
        let json = serde_json::to_string(&bytes).unwrap();
        let spaced = serde_json::to_string_pretty(&bytes).unwrap();
        let b58 = bs58::encode(&bytes).into_string();
        let seed_hex = hex(&bytes[..32]).to_uppercase();
        for form in [
            json.clone(),
            spaced,
            b58.clone(),
            seed_hex,
            json[..60].trim_end_matches(',').to_string(),
            b58[10..40].to_string(),
        ] {
            let out = r.text(&format!("before {form} after"));
            assert_eq!(out, format!("before {REDACTED} after"), "{form}");
        }
        // The public half alone is not secret.
        let public = bs58::encode(&bytes[32..]).into_string();
        assert_eq!(r.text(&public), public);
        assert_eq!(r.text("1, 2, 3, 4, 5, 6, 7, 8, 9"), "1, 2, 3, 4, 5, 6, 7, 8, 9");
    }

    #[test]
    fn json_arrays_of_key_bytes_become_a_string() {
        let r = Redactor::default();
        r.learn_key(&key());
        let value = serde_json::json!({"k": key(), "n": [1, 2, 3], "s": bs58::encode(key()).into_string()});
        assert_eq!(r.json(&value), serde_json::json!({"k": REDACTED, "n": [1, 2, 3], "s": REDACTED}));
    }

    #[test]
    fn secrets_are_found_in_bytes_raw_or_as_text() {
        let r = Redactor::default();
        r.learn_key(&key());
        let mut data = vec![7u8, 0, 0, 0];
        assert!(!r.holds_secret(&data));
        data.extend_from_slice(&key()[3..12]);
        assert!(r.holds_secret(&data), "raw secret bytes");
        let mut text = b"desc: ".to_vec();
        text.extend_from_slice(&bs58::encode(key()).into_string().as_bytes()[5..30]);
        assert!(r.holds_secret(&text), "a piece of the base58 form");
        assert!(!r.holds_secret(&key()[32..]), "the public half");
    }

    #[test]
    fn rpc_credentials_are_redacted_whole_and_in_part() {
        let r = Redactor::default();
        let url = crate::chain::cluster::RpcUrl::parse(
            "https://bob1:pa55word@h.example/T0KEN-0123456789/?api-key=K3Y%3D0123456789",
        )
        .unwrap();
        r.learn_url(&url);
        let out = r.text(&format!(
            "error sending request for url ({}) with K3Y=0123456789 and T0KEN-0123456789",
            url.expose()
        ));
        assert_eq!(out, format!("error sending request for url ({REDACTED}) with {REDACTED} and {REDACTED}"));
        assert_eq!(r.text("user bob1 said pa55word"), format!("user {REDACTED} said {REDACTED}"));
        assert_eq!(r.text("https://h.example"), "https://h.example");
    }

    #[test]
    fn seed_phrases_and_passphrases_are_redacted() {
        let r = Redactor::default();
        r.learn_phrase("Abandon  ability able about above absent absorb abstract absurd abuse access accident");
        r.learn_text("correct horse");
        let out = r.text("got: absorb abstract absurd abuse; pass correct horse");
        assert_eq!(out, format!("got: {REDACTED}; pass {REDACTED}"));
        assert_eq!(r.text("able to read"), "able to read");
    }
}
