//! Seed phrases typed at the terminal, read and derived as the Solana CLI does: the phrase is
//! checked against the BIP39 word lists and checksum (unless validation is skipped, for phrases
//! that are not BIP39), the passphrase is its salt, and the key is derived along a BIP44 path
//! (`prompt://`, `m/44'/501'` by default) or, for `ASK`, taken from the seed's first 32 bytes
//! (the legacy derivation of old `solana-keygen`).
//!
//! Both are read from the terminal device itself, not standard input, so a REPL fed
//! statements through a pipe can still ask for a phrase.

use crate::secrets::redact::Redactor;
use bip39::{Language, Mnemonic, Seed};
use solana_derivation_path::DerivationPath;
use solana_sdk::signature::Keypair;

/// How seed phrases are read (`--skip-seed-phrase-validation`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhraseOptions {
    pub skip_validation: bool,
}

/// The word lists a phrase may be written in, as the Solana CLI tries them.
const LANGUAGES: [Language; 8] = [
    Language::English,
    Language::ChineseSimplified,
    Language::ChineseTraditional,
    Language::Japanese,
    Language::Spanish,
    Language::Korean,
    Language::French,
    Language::Italian,
];

/// Reads a seed phrase and its passphrase at the terminal and derives the keypair.
pub fn read(
    path: Option<DerivationPath>,
    legacy: bool,
    options: PhraseOptions,
    redactor: &Redactor,
) -> Result<Keypair, String> {
    if !has_terminal() {
        return Err("prompt:// and ASK read a seed phrase at a terminal, and this process has none (cron, a service, a pipe): use a keypair file, $RAW_WALLET_PRIVATE_KEY or usb://ledger".into());
    }
    let phrase = rpassword::prompt_password("Seed phrase: ").map_err(|e| format!("reading the seed phrase: {e}"))?;
    let words = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
    redactor.learn_phrase(&words);
    let seed = if options.skip_validation {
        let passphrase = passphrase(redactor)?;
        solana_seed_phrase::generate_seed_from_seed_phrase_and_passphrase(phrase.trim(), &passphrase)
    } else {
        let mnemonic = LANGUAGES.iter().find_map(|language| Mnemonic::from_phrase(&words, *language).ok()).ok_or(
            "the seed phrase is not a BIP39 phrase (a word is not in the word lists, or its checksum does not hold), so no key was derived; a phrase that is not BIP39 needs --skip-seed-phrase-validation",
        )?;
        let passphrase = passphrase(redactor)?;
        Seed::new(&mnemonic, &passphrase).as_bytes().to_vec()
    };
    derive(&seed, path, legacy)
}

/// The key a seed gives: along `path`, or the legacy way.
fn derive(seed: &[u8], path: Option<DerivationPath>, legacy: bool) -> Result<Keypair, String> {
    let derived = if legacy {
        solana_keypair::keypair_from_seed(seed)
    } else {
        solana_keypair::seed_derivable::keypair_from_seed_and_derivation_path(seed, path)
    };
    derived.map_err(|e| format!("deriving the key from the seed phrase: {e}"))
}

fn passphrase(redactor: &Redactor) -> Result<String, String> {
    let passphrase = rpassword::prompt_password("Passphrase (empty for none): ")
        .map_err(|e| format!("reading the passphrase: {e}"))?;
    redactor.learn_text(&passphrase);
    Ok(passphrase)
}

/// True when the process has a terminal to ask at.
fn has_terminal() -> bool {
    #[cfg(unix)]
    {
        std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").is_ok()
    }
    #[cfg(not(unix))]
    {
        use std::io::IsTerminal;
        std::io::stdin().is_terminal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_sdk::signer::Signer;

    const PHRASE: &str =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn key(path: Option<&str>, legacy: bool, passphrase: &str) -> String {
        let mnemonic = Mnemonic::from_phrase(PHRASE, Language::English).unwrap();
        let seed = Seed::new(&mnemonic, passphrase);
        let path = path.map(|p| DerivationPath::from_absolute_path_str(p).unwrap());
        derive(seed.as_bytes(), path, legacy).unwrap().pubkey().to_string()
    }

    /// The vectors, computed apart from this code.
    #[test]
    fn the_derivations_give_the_solana_cli_keys() {
        assert_eq!(key(Some("m/44'/501'"), false, ""), "D2PPQSYFe83nDzk96FqGumVU8JA7J8vj2Rhjc2oXzEi5");
        assert_eq!(key(Some("m/44'/501'/0'/0'"), false, ""), "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk");
        assert_eq!(key(Some("m/44'/501'/1'/0'"), false, ""), "Hh8QwFUA6MtVu1qAoq12ucvFHNwCcVTV7hpWjeY1Hztb");
        assert_eq!(key(None, true, ""), "EHqmfkN89RJ7Y33CXM6uCzhVeuywHoJXZZLszBHHZy7o");
        assert_eq!(key(None, true, "TREZOR"), "6UChi37U4BGomEQR665JZNjTM2PiHcUmBCD3e7TD366v");
    }

    #[test]
    fn a_bad_checksum_is_no_bip39_phrase() {
        let bad = PHRASE.replace("about", "abandon");
        assert!(LANGUAGES.iter().all(|l| Mnemonic::from_phrase(&bad, *l).is_err()));
    }
}
