//! Signer sources, as the Solana CLI knows them: a keypair file (`file:` or a path), a secret
//! in an environment variable (JSON byte array or base58, as run-manager's
//! `RAW_WALLET_PRIVATE_KEY`), a seed phrase typed at the terminal (`prompt://` with its BIP44
//! derivation, `ASK` for the legacy one), a keypair on standard input (`stdin:`), a Ledger
//! (`usb://ledger`), and the embedded localnet's generated payer. Whatever is loaded is taught
//! to the execution's redactor, so no output shows it.
//!
//! A key in memory signs as a `Keypair`; a device signs on a thread of its own (`device`),
//! asked once per transaction. `Held` is either, behind the `Signer` trait the transaction
//! code uses.

mod device;
mod key_files;
mod ledger;
mod seed_phrase;
#[cfg(feature = "test-seams")]
mod test_device;

pub use device::{Approval, DeviceSigner};
pub use key_files::{expand_home, keypair_from_secret, keypair_json, write_private_file};
pub use seed_phrase::PhraseOptions;

use key_files::read_keypair_file;

use crate::secrets::redact::Redactor;
use solana_derivation_path::DerivationPath;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::{Signer, SignerError};
use std::io::Read;
use std::path::{Path, PathBuf};
use uriparse::URIReference;

#[derive(Clone, PartialEq, Eq)]
pub enum SignerSource {
    /// A Solana JSON keypair file (64-byte array).
    File(PathBuf),
    /// A secret held in an environment variable; `var` names it in messages.
    Secret { var: String, secret: String },
    /// A seed phrase (and passphrase) typed at the terminal: derived along `path` (`prompt://`,
    /// BIP44 `m/44'/501'` by default), or the legacy way (`ASK`: the seed's first 32 bytes).
    SeedPhrase { path: Option<DerivationPath>, legacy: bool },
    /// A keypair (JSON byte array) read from standard input.
    Stdin,
    /// A Ledger: the one whose wallet key (at `m/44'/501'`) is `wallet`, or the only one
    /// attached; its key at `path`.
    Ledger { wallet: Option<Pubkey>, path: DerivationPath },
    /// The embedded localnet's payer, generated on first use at this path.
    LocalnetPayer(PathBuf),
    /// `pubkey:ADDRESS`: no key at all, for rehearsals on a fork that sign as an authority whose
    /// key they do not hold (the fork accepts its signatures unchecked; nothing else does).
    PubkeyOnly(Pubkey),
    /// Test builds only: a device that approves by itself and counts its approvals.
    #[cfg(feature = "test-seams")]
    TestDevice(PathBuf),
}

// Never print secrets, not even in debug output.
impl std::fmt::Debug for SignerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The sources `-k` and `signer()` take, for errors.
const SOURCES: &str = "a keypair file, prompt://[?key=ACCOUNT[/CHANGE]|?full-path=m/…], ASK, stdin:, usb://ledger[/WALLET_PUBKEY][?key=…]";

impl SignerSource {
    /// Parses a `-k`/`keypair_path`/`signer()` value the way the Solana CLI does.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        // What an error may quote: never a key pasted where a source belongs.
        let shown = || {
            if crate::secrets::key_material::looks_like_key_material(value) {
                "[redacted]".to_string()
            } else {
                format!("{value:?}")
            }
        };
        match value {
            "ASK" => return Ok(SignerSource::SeedPhrase { path: None, legacy: true }),
            "-" | "stdin:" | "stdin://" => return Ok(SignerSource::Stdin),
            _ => {}
        }
        let scheme = value.split_once(':').map(|(s, _)| s.to_ascii_lowercase()).filter(|s| {
            // A Windows drive letter or a path with a colon in it is a path.
            s.len() > 1 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
        });
        let uri =
            || URIReference::try_from(value).map_err(|e| format!("signer source {}: not a valid URI ({e})", shown()));
        let bad_path = |e: solana_derivation_path::DerivationPathError| format!("signer source {}: {e}", shown());
        match scheme.as_deref() {
            Some("prompt") => {
                let path = DerivationPath::from_uri_any_query(&uri()?).map_err(bad_path)?;
                Ok(SignerSource::SeedPhrase { path: Some(path.unwrap_or_default()), legacy: false })
            }
            Some("usb") => {
                let uri = uri()?;
                let locator = solana_remote_wallet::locator::Locator::new_from_uri(&uri)
                    .map_err(|e| format!("signer source {}: {e}", shown()))?;
                if locator.manufacturer != solana_remote_wallet::locator::Manufacturer::Ledger {
                    return Err(format!("signer source {}: only usb://ledger devices are supported", shown()));
                }
                let path = DerivationPath::from_uri_key_query(&uri).map_err(bad_path)?.unwrap_or_default();
                Ok(SignerSource::Ledger { wallet: locator.pubkey, path })
            }
            Some("pubkey") => value[7..]
                .trim()
                .parse()
                .map(SignerSource::PubkeyOnly)
                .map_err(|_| format!("signer source {}: pubkey: takes a base58 address", shown())),
            Some("file") => {
                let path = value[5..].trim_start_matches("//");
                Ok(SignerSource::File(expand_home(if path.is_empty() { value } else { path })))
            }
            #[cfg(feature = "test-seams")]
            Some("test-device") => Ok(SignerSource::TestDevice(PathBuf::from(&value["test-device:".len()..]))),
            Some(other) if value.contains("://") => {
                Err(format!("signer source {}: the {other}:// scheme is not a key source ({SOURCES})", shown()))
            }
            _ => Ok(SignerSource::File(expand_home(value))),
        }
    }

    /// Where the key comes from, without revealing it.
    pub fn describe(&self) -> String {
        match self {
            SignerSource::File(path) => format!("keypair file {}", path.display()),
            SignerSource::Secret { var, .. } => format!("secret in ${var}"),
            SignerSource::SeedPhrase { legacy: true, .. } => "seed phrase (ASK, legacy derivation)".to_string(),
            SignerSource::SeedPhrase { path, .. } => {
                format!("seed phrase (prompt://, {:?})", path.clone().unwrap_or_default())
            }
            SignerSource::Stdin => "keypair from standard input".to_string(),
            SignerSource::Ledger { wallet, path } => {
                let wallet = wallet.map(|w| format!("/{w}")).unwrap_or_default();
                format!("Ledger usb://ledger{wallet} ({path:?})")
            }
            SignerSource::LocalnetPayer(path) => format!("localnet payer {}", path.display()),
            SignerSource::PubkeyOnly(key) => format!("pubkey-only {key} (forks only)"),
            #[cfg(feature = "test-seams")]
            SignerSource::TestDevice(path) => format!("test device {}", path.display()),
        }
    }

    /// True for sources whose key lives on a device that asks its owner to approve each
    /// signature.
    pub fn is_device(&self) -> bool {
        match self {
            SignerSource::Ledger { .. } => true,
            #[cfg(feature = "test-seams")]
            SignerSource::TestDevice(_) => true,
            _ => false,
        }
    }

    /// True for sources read when settings are resolved, not first at signing: a device must be
    /// attached and ready before anything runs, and standard input is read before the runbook
    /// (or the REPL) could want it.
    pub fn is_eager(&self) -> bool {
        self.is_device() || matches!(self, SignerSource::Stdin)
    }

    /// Loads the signer and teaches its secret to `redactor`. `warn` receives findings such as
    /// loose file permissions; `tell` what the operator at the terminal must read: the pubkey a
    /// typed seed phrase derived, what a device is about to ask them to approve.
    pub fn load(
        &self,
        phrase: PhraseOptions,
        warn: &mut dyn FnMut(String),
        tell: std::sync::Arc<dyn Fn(String) + Send + Sync>,
        redactor: &Redactor,
    ) -> Result<Held, String> {
        let keypair = match self {
            SignerSource::File(path) => read_keypair_file(path, warn)?,
            SignerSource::Secret { var, secret } => {
                // Even a secret that does not load is kept out of the outputs.
                redactor.learn_if_key(secret);
                keypair_from_secret(secret).map_err(|e| format!("${var}: {e}"))?
            }
            SignerSource::SeedPhrase { path, legacy } => {
                let keypair = seed_phrase::read(path.clone(), *legacy, phrase, redactor)?;
                tell(format!("the seed phrase gives {} ({})", keypair.pubkey(), self.describe()));
                keypair
            }
            SignerSource::Stdin => {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text).map_err(|e| format!("stdin: reading the keypair: {e}"))?;
                redactor.learn_if_key(&text);
                keypair_from_secret(&text).map_err(|e| format!("stdin: {e}"))?
            }
            SignerSource::Ledger { wallet, path } => {
                let (wallet, path) = (*wallet, path.clone());
                let device = DeviceSigner::open(move || ledger::open(wallet, path), tell)?;
                return Ok(Held::Device(device));
            }
            SignerSource::PubkeyOnly(key) => return Ok(Held::StandIn(*key)),
            SignerSource::LocalnetPayer(path) => {
                if path.exists() {
                    read_keypair_file(path, warn)?
                } else {
                    let keypair = Keypair::new();
                    write_private_file(path, &keypair_json(&keypair))?;
                    keypair
                }
            }
            #[cfg(feature = "test-seams")]
            SignerSource::TestDevice(path) => {
                let path = path.clone();
                let device = DeviceSigner::open(move || test_device::open(&path), tell)?;
                return Ok(Held::Device(device));
            }
        };
        redactor.learn_key(&keypair.to_bytes());
        Ok(Held::Key(keypair))
    }

    /// Teaches `redactor` the secret this source holds when it can be had without asking or
    /// creating anything (not a prompt, standard input or a device, not a payer yet to be
    /// generated), so outputs are redacted before the signer is first used.
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
            _ => {}
        }
    }

    /// True when loading asks no one: the key is in a file or a variable.
    pub fn is_unattended(&self) -> bool {
        matches!(self, SignerSource::File(_) | SignerSource::Secret { .. } | SignerSource::LocalnetPayer(_))
    }

    /// The file this source reads its key from, if any.
    pub fn key_file(&self) -> Option<&Path> {
        match self {
            SignerSource::File(path) | SignerSource::LocalnetPayer(path) => Some(path),
            _ => None,
        }
    }
}

/// A loaded signer: a key in memory, a device that holds it, or a stand-in for a key no one
/// here holds (a fork's rehearsal).
pub enum Held {
    Key(Keypair),
    Device(DeviceSigner),
    StandIn(Pubkey),
}

impl Held {
    /// The key in memory (None for a device).
    pub fn keypair(&self) -> Option<&Keypair> {
        match self {
            Held::Key(keypair) => Some(keypair),
            _ => None,
        }
    }

    pub fn device(&self) -> Option<&DeviceSigner> {
        match self {
            Held::Device(device) => Some(device),
            _ => None,
        }
    }
}

impl Signer for Held {
    fn try_pubkey(&self) -> Result<Pubkey, SignerError> {
        match self {
            Held::Key(keypair) => keypair.try_pubkey(),
            Held::Device(device) => device.try_pubkey(),
            Held::StandIn(key) => Ok(*key),
        }
    }

    fn try_sign_message(&self, message: &[u8]) -> Result<Signature, SignerError> {
        match self {
            Held::Key(keypair) => keypair.try_sign_message(message),
            Held::Device(device) => device.try_sign_message(message),
            // Random bytes: unique, so the transaction still has an id of its own in history.
            Held::StandIn(_) => Ok(Signature::from(std::array::from_fn::<u8, 64, _>(|_| rand::random()))),
        }
    }

    fn is_interactive(&self) -> bool {
        matches!(self, Held::Device(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn sources_parse_as_the_solana_cli_reads_them() {
        let path = |s: &str| match SignerSource::parse(s).unwrap() {
            SignerSource::SeedPhrase { path, legacy: false } => format!("{:?}", path.unwrap()),
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(path("prompt://"), "m/44'/501'");
        assert_eq!(path("prompt:"), "m/44'/501'");
        assert_eq!(path("prompt://?key=0/0"), "m/44'/501'/0'/0'");
        assert_eq!(path("prompt://?key=1"), "m/44'/501'/1'");
        assert_eq!(path("prompt://?full-path=m/44'/501'/1'/0'"), "m/44'/501'/1'/0'");
        assert_eq!(SignerSource::parse("ASK").unwrap(), SignerSource::SeedPhrase { path: None, legacy: true });
        assert_eq!(SignerSource::parse("stdin:").unwrap(), SignerSource::Stdin);
        assert_eq!(SignerSource::parse("file:///k/id.json").unwrap(), SignerSource::File("/k/id.json".into()));
        assert_eq!(SignerSource::parse("keys/id.json").unwrap(), SignerSource::File("keys/id.json".into()));
        let wallet = Pubkey::new_unique();
        match SignerSource::parse(&format!("usb://ledger/{wallet}?key=0/1")).unwrap() {
            SignerSource::Ledger { wallet: w, path } => {
                assert_eq!((w, format!("{path:?}")), (Some(wallet), "m/44'/501'/0'/1'".to_string()));
            }
            other => panic!("{other:?}"),
        }
        match SignerSource::parse("usb://ledger").unwrap() {
            SignerSource::Ledger { wallet: None, path } => assert_eq!(format!("{path:?}"), "m/44'/501'"),
            other => panic!("{other:?}"),
        }
        assert!(SignerSource::parse("prompt://?key=0/0/0").is_err());
        assert!(SignerSource::parse("usb://ledger?full-path=m/44'/501'").is_err());
        assert!(SignerSource::parse("usb://trezor").is_err());
        assert!(SignerSource::parse("ftp://x").unwrap_err().contains("ftp:// scheme is not a key source"));
    }
}
