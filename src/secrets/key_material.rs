//! Recognising text that is, or may be, secret key material: a keypair as Solana writes it (a
//! JSON array of 64 numbers), a base58 or hex string of a keypair's length, a seed phrase.
//! Errors about files use this to decide whether a piece of the file may be quoted at all.

/// The most characters of a file an error quotes.
const EXCERPT_CHARS: usize = 40;

/// Base58 of 64 bytes is 86 to 88 characters; anything this long or longer is held back.
const LONG_BASE58: usize = 64;

/// Hex of 32 bytes.
const LONG_HEX: usize = 64;

/// A JSON array with at least this many numbers looks like a key (a seed is 32).
const MANY_NUMBERS: usize = 32;

/// Seed phrases have 12 to 24 words.
const PHRASE_WORDS: usize = 12;

/// The 64 bytes of a keypair written as Solana tools write it: a JSON array of 64 numbers
/// (each 0 to 255) or a base58 string of 64 bytes. The whole text must be the key.
pub fn keypair_bytes(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let bytes = if text.starts_with('[') {
        serde_json::from_str::<Vec<u8>>(text).ok()?
    } else {
        bs58::decode(text).into_vec().ok()?
    };
    (bytes.len() == 64).then_some(bytes)
}

/// True when the whole text is a seed phrase: 12 or more short lowercase words and nothing else.
pub fn is_seed_phrase(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.len() >= PHRASE_WORDS
        && words.iter().all(|w| (3..=8).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// True when `text` holds something that may be a secret: a keypair in any of its forms, a long
/// run of numbers (part of a key array), a long base58 or hex string, or a seed phrase.
pub fn looks_like_key_material(text: &str) -> bool {
    if keypair_bytes(text).is_some() || is_seed_phrase(text) {
        return true;
    }
    let numbers = text
        .split(|c: char| c == ',' || c == '[' || c == ']' || c.is_whitespace())
        .filter(|t| !t.is_empty() && t.len() <= 3 && t.bytes().all(|b| b.is_ascii_digit()))
        .count();
    if numbers >= MANY_NUMBERS {
        return true;
    }
    text.split(|c: char| !c.is_ascii_alphanumeric()).any(|token| {
        (token.len() >= LONG_BASE58 && bs58::decode(token).into_vec().is_ok())
            || (token.len() >= LONG_HEX && token.bytes().all(|b| b.is_ascii_hexdigit()))
    })
}

/// What an error may quote of `text`: a short excerpt, or nothing when it may be key material.
pub fn excerpt(text: &str) -> Option<String> {
    if looks_like_key_material(text) {
        return None;
    }
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    Some(if chars.next().is_some() { format!("{head}…") } else { head })
}

/// A parser's message with each piece of the file it quotes (in double quotes or backticks) cut
/// to an excerpt, or hidden when it may be key material (`invalid type: string "…"`).
pub fn scrub(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest[open..].chars().next().unwrap_or('"');
        let Some(len) = rest[open + 1..].find(quote) else { break };
        let quoted = &rest[open + 1..open + 1 + len];
        out.push_str(&rest[..open]);
        match excerpt(quoted) {
            Some(short) => out.push_str(&format!("{quote}{short}{quote}")),
            None => out.push_str("(a value that looks like key material, not shown)"),
        }
        rest = &rest[open + len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keypairs_in_their_written_forms_are_recognised() {
        let bytes: Vec<u8> = (0..64).map(|i| (i * 7 % 256) as u8).collect();
        let json = serde_json::to_string(&bytes).unwrap();
        assert_eq!(keypair_bytes(&json), Some(bytes.clone()));
        assert_eq!(keypair_bytes(&format!(" {}\n", bs58::encode(&bytes).into_string())), Some(bytes));
        assert_eq!(keypair_bytes("[1,2,3]"), None);
        assert_eq!(keypair_bytes("11111111111111111111111111111112"), None);
        assert!(looks_like_key_material(&json[..json.len() / 2]));
    }

    #[test]
    fn excerpts_are_short_and_never_key_material() {
        assert_eq!(excerpt("not-a-key").as_deref(), Some("not-a-key"));
        assert_eq!(excerpt(&"x".repeat(50)).unwrap().chars().count(), EXCERPT_CHARS + 1);
        let phrase = "abandon ability able about above absent absorb abstract absurd abuse access accident";
        assert_eq!(excerpt(phrase), None);
        assert_eq!(excerpt(&"ab".repeat(40)), None);
        let scrubbed = scrub(&format!("invalid type: string \"{phrase}\", expected u64"));
        assert!(!scrubbed.contains("abandon"), "{scrubbed}");
        assert_eq!(scrub("invalid type: string \"x\", expected u64"), "invalid type: string \"x\", expected u64");
    }
}
