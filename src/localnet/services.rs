//! Localnet-only chain services: airdrops, SPL mints and minting, all as real transactions
//! signed by the localnet's faucet (which is also the authority of the mints it creates).

use crate::localnet::Localnet;
use crate::localnet::executed::Executed;
use crate::psyche::ids::TOKEN;
use crate::psyche::instructions::system::create_ata_idempotent;
use crate::psyche::pdas::associated_token;
use solana_program_pack::Pack;
use solana_sdk::account::Account;
use solana_sdk::instruction::Instruction;
use solana_sdk::message::Message;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, VersionedTransaction};

#[derive(Debug, thiserror::Error)]
#[error("{what} failed: {err}{}", if logs.is_empty() { String::new() } else { format!("\n  {}", logs.join("\n  ")) })]
pub struct ServiceError {
    pub what: String,
    pub err: String,
    pub logs: Vec<String>,
}

impl Localnet {
    /// The faucet: funded at genesis, pays for services and signs mint authority.
    pub fn faucet(&self) -> Keypair {
        self.faucet.insecure_clone()
    }

    /// Signs `instructions` with the faucet as fee payer (plus `signers`) and executes them.
    pub fn execute_signed(
        &mut self,
        what: &str,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Executed, ServiceError> {
        let faucet = self.faucet();
        let mut all: Vec<&Keypair> = vec![&faucet];
        all.extend_from_slice(signers);
        self.follow_clock();
        let sign = |blockhash| {
            let message = Message::new_with_blockhash(instructions, Some(&faucet.pubkey()), &blockhash);
            VersionedTransaction::from(Transaction::new(&all, message, blockhash))
        };
        let mut tx = sign(self.latest_blockhash());
        if self.record(&tx.signatures[0]).is_some() {
            // The same service twice in one slot signs the same bytes: a validator would drop
            // the repeat, so take the next slot's blockhash now, as a client would wait for it.
            self.end_slot_early();
            tx = sign(self.latest_blockhash());
        }
        let executed = self.execute(&tx);
        // A service reports its transaction at once: only once it is stored.
        if let Err(failure) = self.flush() {
            return Err(ServiceError { what: what.to_string(), err: failure.to_string(), logs: Vec::new() });
        }
        match &executed.err {
            None => Ok(executed),
            Some(err) => Err(ServiceError { what: what.to_string(), err: err.to_string(), logs: executed.logs }),
        }
    }

    pub fn airdrop(&mut self, to: &Pubkey, lamports: u64) -> Result<Signature, ServiceError> {
        let ix = solana_system_interface::instruction::transfer(&self.faucet().pubkey(), to, lamports);
        Ok(self.execute_signed("airdrop", &[ix], &[])?.signature)
    }

    /// A new SPL mint with `decimals`, whose mint authority is the faucet.
    pub fn create_mint(&mut self, decimals: u8) -> Result<Pubkey, ServiceError> {
        self.create_mint_signed(decimals).map(|(mint, _)| mint)
    }

    /// `create_mint`, also returning the transaction's signature.
    pub fn create_mint_signed(&mut self, decimals: u8) -> Result<(Pubkey, Signature), ServiceError> {
        let mint = Keypair::new();
        let faucet = self.faucet().pubkey();
        let size = spl_token_interface::state::Mint::LEN;
        let create = solana_system_interface::instruction::create_account(
            &faucet,
            &mint.pubkey(),
            self.minimum_balance(size),
            size as u64,
            &TOKEN,
        );
        let init = spl_token_interface::instruction::initialize_mint2(&TOKEN, &mint.pubkey(), &faucet, None, decimals)
            .expect("a valid mint instruction");
        let executed = self.execute_signed("create mint", &[create, init], &[&mint])?;
        Ok((mint.pubkey(), executed.signature))
    }

    /// Mints `amount` native units of `mint` to `owner`'s associated token account, creating it
    /// if needed. Returns the token account.
    pub fn mint_to(&mut self, mint: &Pubkey, owner: &Pubkey, amount: u64) -> Result<Pubkey, ServiceError> {
        self.mint_to_signed(mint, owner, amount).map(|(ata, _)| ata)
    }

    /// `mint_to`, also returning the transaction's signature.
    pub fn mint_to_signed(
        &mut self,
        mint: &Pubkey,
        owner: &Pubkey,
        amount: u64,
    ) -> Result<(Pubkey, Signature), ServiceError> {
        let faucet = self.faucet().pubkey();
        let ata = associated_token(owner, mint);
        let create = create_ata_idempotent(&faucet, owner, mint);
        let authority =
            self.account(mint).and_then(|a| crate::localnet::store::tokens::mint(&a)).map(|m| m.mint_authority);
        if self.origin().is_some() && authority != Some(Some(faucet).into()) {
            // A fork sets the balances of a mint it holds no authority of (a cluster's): the
            // token account is created by a transaction, its balance and the supply are set.
            let executed = self.execute_signed("create token account", &[create], &[])?;
            self.add_tokens(mint, &ata, amount).map_err(|err| ServiceError {
                what: "mint tokens".into(),
                err,
                logs: Vec::new(),
            })?;
            return Ok((ata, executed.signature));
        }
        let mint_ix = spl_token_interface::instruction::mint_to(&TOKEN, mint, &ata, &faucet, &[], amount)
            .expect("a valid mint_to instruction");
        let executed = self.execute_signed("mint tokens", &[create, mint_ix], &[])?;
        Ok((ata, executed.signature))
    }

    /// Adds `amount` to token account `account` of `mint`, and to the mint's supply, directly.
    fn add_tokens(&mut self, mint: &Pubkey, account: &Pubkey, amount: u64) -> Result<(), String> {
        use spl_token_interface::state::{Account as TokenAccount, Mint};
        let (mut held, mut minted) = match (self.account(account), self.account(mint)) {
            (Some(held), Some(minted)) => (held, minted),
            _ => return Err(format!("{account} or its mint {mint} is not on the fork")),
        };
        let mut state = TokenAccount::unpack(&held.data[..TokenAccount::LEN]).map_err(|e| e.to_string())?;
        state.amount = state.amount.checked_add(amount).ok_or("the balance would overflow")?;
        state.pack_into_slice(&mut held.data[..TokenAccount::LEN]);
        let mut supply = Mint::unpack(&minted.data[..Mint::LEN]).map_err(|e| e.to_string())?;
        supply.supply = supply.supply.checked_add(amount).ok_or("the supply would overflow")?;
        supply.pack_into_slice(&mut minted.data[..Mint::LEN]);
        self.set_account(*account, held);
        self.set_account(*mint, minted);
        Ok(())
    }

    /// Decimals of a mint (SPL Token or Token-2022), if `mint` is one.
    pub fn mint_decimals(&self, mint: &Pubkey) -> Option<u8> {
        crate::localnet::store::tokens::mint(&self.account(mint)?).map(|m| m.decimals)
    }

    /// Balance of an SPL token account, if `account` is one.
    pub fn token_balance(&self, account: &Pubkey) -> Option<(u64, Pubkey)> {
        self.token_balance_of(&self.account(account)?)
    }

    /// Balance and mint of `account` if it is a token account (SPL Token or Token-2022).
    pub fn token_balance_of(&self, account: &Account) -> Option<(u64, Pubkey)> {
        crate::localnet::store::tokens::token_account(account).map(|a| (a.amount, a.mint))
    }
}
