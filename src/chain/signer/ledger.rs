//! A Ledger through agave's `solana-remote-wallet`: found by its wallet key (its key at
//! `m/44'/501'`, as `usb://ledger/WALLET_PUBKEY` names it) or as the only one attached, and
//! asked for the key at the source's derivation path. Every failure the device can give is said
//! as the operator can act on it. Runs on the device's own thread (`device`).

use crate::chain::signer::device::Device;
use solana_derivation_path::DerivationPath;
use solana_remote_wallet::ledger::LedgerWallet;
use solana_remote_wallet::ledger_error::LedgerError;
use solana_remote_wallet::remote_wallet::{RemoteWallet, RemoteWalletError, initialize_wallet_manager};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use std::rc::Rc;

struct Ledger {
    wallet: Rc<LedgerWallet>,
    path: DerivationPath,
    pubkey: Pubkey,
    name: String,
}

/// What to do about a device's error.
fn describe(err: &RemoteWalletError) -> String {
    use LedgerError::*;
    match err {
        RemoteWalletError::NoDeviceFound | RemoteWalletError::Hid(_) => {
            "no Ledger was found (usb://ledger): connect it by USB, unlock it and open the Solana app".into()
        }
        RemoteWalletError::UserCancel | RemoteWalletError::LedgerError(UserCancel) => {
            "it was rejected on the Ledger".into()
        }
        RemoteWalletError::LedgerError(SdkNotSupported) => {
            "the Ledger's Solana app refused to sign because blind signing is disabled: enable it in the app's settings, then run again".into()
        }
        RemoteWalletError::LedgerError(NoAppResponse | InvalidCla | UnimplementedInstruction | NoApduReceived)
        | RemoteWalletError::Protocol(_) => {
            "the Ledger is locked or the Solana app is not open: unlock it, open the Solana app, and run again".into()
        }
        other => format!("Ledger: {other}"),
    }
}

/// Finds the Ledger and reads its key at `path`.
pub fn open(wallet: Option<Pubkey>, path: DerivationPath) -> Result<Box<dyn Device>, String> {
    let manager = initialize_wallet_manager().map_err(|e| describe(&e))?;
    let found = manager.update_devices().map_err(|e| describe(&e))?;
    let devices = manager.list_devices();
    if found == 0 && devices.is_empty() {
        return Err(describe(&RemoteWalletError::NoDeviceFound));
    }
    let attached = || devices.iter().map(|d| d.pubkey.to_string()).collect::<Vec<_>>().join(", ");
    let matching: Vec<_> = devices.iter().filter(|d| wallet.is_none_or(|w| d.pubkey == w)).collect();
    let info = match (matching.as_slice(), wallet) {
        ([one], _) => *one,
        ([], Some(wallet)) => {
            return Err(format!(
                "no attached Ledger has the wallet key {wallet} (usb://ledger/{wallet} names a device by its key at m/44'/501'; attached: {})",
                attached()
            ));
        }
        (_, _) => {
            return Err(format!(
                "{} Ledgers are attached: name one as usb://ledger/WALLET_PUBKEY (attached: {})",
                matching.len(),
                attached()
            ));
        }
    };
    if let Some(err) = &info.error {
        return Err(describe(err));
    }
    let wallet = manager.get_ledger(&info.host_device_path).map_err(|e| describe(&e))?;
    let pubkey = wallet.get_pubkey(&path, false).map_err(|e| describe(&e))?;
    let name = format!("Ledger {} ({path:?})", info.get_pretty_path());
    Ok(Box::new(Ledger { wallet, path, pubkey, name }))
}

impl Device for Ledger {
    fn pubkey(&self) -> Pubkey {
        self.pubkey
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn sign(&mut self, message: &[u8]) -> Result<Signature, String> {
        // The Ledger library prints its prompts on stdout, which holds results (`--output
        // json`): they go to stderr instead.
        let _stdout = stdout_to_stderr::Swap::new();
        self.wallet.sign_message(&self.path, message).map_err(|e| describe(&e))
    }
}

/// Points the process's stdout at its stderr for as long as a `Swap` lives.
mod stdout_to_stderr {
    pub struct Swap {
        #[cfg(unix)]
        saved: Option<i32>,
    }

    impl Swap {
        #[cfg(unix)]
        pub fn new() -> Self {
            use std::io::Write;
            let _ = std::io::stdout().flush();
            // SAFETY: dup and dup2 on the standard descriptors; the saved one is restored and
            // closed on drop.
            let saved = unsafe {
                let saved = libc::dup(libc::STDOUT_FILENO);
                (saved >= 0 && libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) >= 0).then_some(saved)
            };
            Self { saved }
        }

        #[cfg(not(unix))]
        pub fn new() -> Self {
            Self {}
        }
    }

    #[cfg(unix)]
    impl Drop for Swap {
        fn drop(&mut self) {
            use std::io::Write;
            let _ = std::io::stdout().flush();
            if let Some(saved) = self.saved {
                // SAFETY: restores the descriptor saved in `new`, then closes the copy.
                unsafe {
                    libc::dup2(saved, libc::STDOUT_FILENO);
                    libc::close(saved);
                }
            }
        }
    }
}
