//! Test builds only (feature `test-seams`, which the test suite turns on and a release never
//! has): `test-device:KEYFILE` is a signing device that approves by itself, behind the same
//! seam as the Ledger (its own thread, a channel, asked once per signature), and writes one
//! line per approval to `KEYFILE.approvals`, so tests count what a device owner would have
//! been asked.

use crate::chain::signer::device::Device;
use crate::chain::signer::key_files::keypair_from_secret;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use std::io::Write;
use std::path::{Path, PathBuf};

struct Counting {
    keypair: Keypair,
    approvals: PathBuf,
    name: String,
}

pub fn open(path: &Path) -> Result<Box<dyn Device>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("test device {}: {e}", path.display()))?;
    let keypair = keypair_from_secret(&text).map_err(|e| format!("test device {}: {e}", path.display()))?;
    let mut approvals = path.as_os_str().to_owned();
    approvals.push(".approvals");
    Ok(Box::new(Counting { keypair, approvals: approvals.into(), name: format!("test device {}", path.display()) }))
}

impl Device for Counting {
    fn pubkey(&self) -> Pubkey {
        self.keypair.pubkey()
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn sign(&mut self, message: &[u8]) -> Result<Signature, String> {
        let signature = self.keypair.sign_message(message);
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.approvals)
            .map_err(|e| format!("{}: {e}", self.approvals.display()))?;
        writeln!(log, "{signature}").map_err(|e| format!("{}: {e}", self.approvals.display()))?;
        Ok(signature)
    }
}
