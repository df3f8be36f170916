//! Signer sources: a JSON keypair file, a secret in an environment variable (JSON byte array or
//! base58, as run-manager's `RAW_WALLET_PRIVATE_KEY`), `prompt://` (a seed phrase typed at a
//! terminal) and the embedded localnet's generated payer. Loading happens on first use, so a
//! runbook that never signs never prompts. Whatever is loaded is taught to the execution's
//! redactor, so no output shows it.

use crate::secrets::redact::Redactor;
use solana_sdk::signature::Keypair;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Clone, PartialEq, Eq)]
pub enum SignerSource {
    /// A Solana JSON keypair file (64-byte array).
    File(PathBuf),
    /// A secret held in an environment variable; `var` names it in messages.
    Secret { var: String, secret: String },
    /// A seed phrase (and optional passphrase) typed at the terminal.
    Prompt,
    /// The embedded localnet's payer, generated on first use at this path.
    LocalnetPayer(PathBuf),
}

// Never print secrets, not even in debug output.
impl std::fmt::Debug for SignerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl SignerSource {
    /// Parses a `-k`/`keypair_path` value: `prompt://`, or a keypair file path.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value == "prompt://" || value == "prompt:" || value == "ASK" {
            return Ok(SignerSource::Prompt);
        }
        if let Some((scheme, _)) = value.split_once("://")
            && scheme != "file"
        {
            return Err(format!(
                "signer source {value:?}: the {scheme}:// scheme is not supported (use a keypair file, prompt:// or RAW_WALLET_PRIVATE_KEY)"
            ));
        }
        let path = value.strip_prefix("file://").unwrap_or(value);
        Ok(SignerSource::File(expand_home(path)))
    }

    /// Where the key comes from, without revealing it.
    pub fn describe(&self) -> String {
        match self {
            SignerSource::File(path) => format!("keypair file {}", path.display()),
            SignerSource::Secret { var, .. } => format!("secret in ${var}"),
            SignerSource::Prompt => "seed phrase (prompt://)".to_string(),
            SignerSource::LocalnetPayer(path) => format!("localnet payer {}", path.display()),
        }
    }

    /// Loads the keypair and teaches its secret to `redactor`. `warn` receives non-fatal
    /// findings (e.g. loose file permissions).
    pub fn load(&self, warn: &mut dyn FnMut(String), redactor: &Redactor) -> Result<Keypair, String> {
        let keypair = match self {
            SignerSource::File(path) => read_keypair_file(path, warn)?,
            SignerSource::Secret { var, secret } => {
                // Even a secret that does not load is kept out of the outputs.
                redactor.learn_if_key(secret);
                keypair_from_secret(secret).map_err(|e| format!("${var}: {e}"))?
            }
            SignerSource::Prompt => prompt_seed_phrase(redactor)?,
            SignerSource::LocalnetPayer(path) => {
                if path.exists() {
                    read_keypair_file(path, warn)?
                } else {
                    let keypair = Keypair::new();
                    write_private_file(path, &keypair_json(&keypair))?;
                    keypair
                }
            }
        };
        redactor.learn_key(&keypair.to_bytes());
        Ok(keypair)
    }

    /// Teaches `redactor` the secret this source holds when it can be had without asking or
    /// creating anything (not `prompt://`, not a payer yet to be generated), so outputs are
    /// redacted before the signer is first used.
    pub fn learn_unattended(&self, redactor: &Redactor) {
        match self {
            SignerSource::File(path) | SignerSource::LocalnetPayer(path) => {
                // A key pasted where its path belongs (`-k '[12,…]'`) is a secret too.
                redactor.learn_if_key(&path.to_string_lossy());
                if let Ok(text) = std::fs::read_to_string(path) {
                    redactor.learn_if_key(&text);
                }
            }
            SignerSource::Secret { secret, .. } => redactor.learn_if_key(secret),
            SignerSource::Prompt => {}
        }
    }

    /// The file this source reads its key from, if any.
    pub fn key_file(&self) -> Option<&Path> {
        match self {
            SignerSource::File(path) | SignerSource::LocalnetPayer(path) => Some(path),
            SignerSource::Secret { .. } | SignerSource::Prompt => None,
        }
    }
}

/// Expands a leading `~/` the way shells and the Solana CLI config do.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// A secret as text: a JSON byte array (`[12, 34, …]`) or base58.
pub fn keypair_from_secret(text: &str) -> Result<Keypair, String> {
    let text = text.trim();
    if text.starts_with('[') {
        // serde's message may quote the text; only where it broke is said.
        let bytes: Vec<u8> = serde_json::from_str(text)
            .map_err(|e| format!("not a JSON array of 64 bytes (at line {}, column {})", e.line(), e.column()))?;
        Keypair::try_from(bytes.as_slice()).map_err(|e| format!("not a valid 64-byte keypair: {e}"))
    } else {
        let bytes = bs58::decode(text).into_vec().map_err(|_| "not base58 (nor a JSON byte array)".to_string())?;
        Keypair::try_from(bytes.as_slice()).map_err(|e| format!("not a valid 64-byte keypair: {e}"))
    }
}

fn read_keypair_file(path: &Path, warn: &mut dyn FnMut(String)) -> Result<Keypair, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("keypair file {}: {e}", path.display()))?;
    warn_if_readable_by_others(path, warn);
    keypair_from_secret(&text).map_err(|e| format!("keypair file {}: {e}", path.display()))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path, warn: &mut dyn FnMut(String)) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            warn(format!(
                "keypair file {} is readable by group or others (mode {mode:o}); run: chmod 600 {}",
                path.display(),
                path.display()
            ));
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path, _: &mut dyn FnMut(String)) {}

pub fn keypair_json(keypair: &Keypair) -> String {
    serde_json::to_string(&keypair.to_bytes().to_vec()).expect("a byte array serializes")
}

/// Writes `contents` to a new file only the owner can read, via a temp file and rename.
pub fn write_private_file(path: &Path, contents: &str) -> Result<(), String> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::files::private::private_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = path.with_extension("tmp");
    let mut file = crate::files::private::create_private(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

fn prompt_seed_phrase(redactor: &Redactor) -> Result<Keypair, String> {
    if !std::io::stdin().is_terminal() {
        return Err("prompt:// reads a seed phrase from a terminal, but stdin is not a TTY".into());
    }
    let phrase = rpassword::prompt_password("Seed phrase: ").map_err(|e| format!("reading the seed phrase: {e}"))?;
    let passphrase = rpassword::prompt_password("Passphrase (empty for none): ")
        .map_err(|e| format!("reading the passphrase: {e}"))?;
    let words = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
    redactor.learn_phrase(&words);
    redactor.learn_text(&passphrase);
    solana_sdk::signer::keypair::keypair_from_seed_phrase_and_passphrase(&words, &passphrase)
        .map_err(|e| format!("seed phrase: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_sdk::signer::Signer;

    #[test]
    fn json_and_base58_secrets_give_the_same_key() {
        let k = Keypair::new();
        let json = keypair_json(&k);
        let b58 = k.to_base58_string();
        assert_eq!(keypair_from_secret(&json).unwrap().pubkey(), k.pubkey());
        assert_eq!(keypair_from_secret(&b58).unwrap().pubkey(), k.pubkey());
        assert!(keypair_from_secret("[1,2,3]").is_err());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let source = SignerSource::Secret { var: "RAW_WALLET_PRIVATE_KEY".into(), secret: "supersecret".into() };
        assert!(!format!("{source:?}").contains("supersecret"));
    }
}
