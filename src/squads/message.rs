//! The `TransactionMessage` a vault transaction is created from: instructions compiled with
//! the vault as the paying signer, account keys ordered like upstream's Rust SDK
//! (`try_compile`: vault first, then writable signers, readonly signers, writable and readonly
//! non-signers, each group sorted by key), and the compact encoding upstream's `SmallVec`
//! gives it (u8 lengths, u16 for instruction data). Also the way back: the instructions a
//! stored message will run, for execution and for display.

use crate::squads::accounts::{MultisigCompiledInstruction, VaultTransactionMessage};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MessageError {
    #[error("too many accounts for one vault transaction ({0}; at most 255)")]
    TooManyAccounts(usize),
    #[error("instruction data of {0} bytes is too long")]
    DataTooLong(usize),
    #[error("the transaction message is malformed: {0}")]
    Malformed(&'static str),
}

#[derive(Default, Clone, Copy)]
struct KeyMeta {
    signer: bool,
    writable: bool,
}

/// Compiles `instructions` to the message a vault transaction stores (no lookup tables).
pub fn compile(vault: &Pubkey, instructions: &[Instruction]) -> Result<VaultTransactionMessage, MessageError> {
    let mut metas: BTreeMap<Pubkey, KeyMeta> = BTreeMap::new();
    for ix in instructions {
        metas.entry(ix.program_id).or_default();
        for a in &ix.accounts {
            let meta = metas.entry(a.pubkey).or_default();
            meta.signer |= a.is_signer;
            meta.writable |= a.is_writable;
        }
    }
    metas.remove(vault);
    let group = |signer: bool, writable: bool| -> Vec<Pubkey> {
        metas.iter().filter(|(_, m)| m.signer == signer && m.writable == writable).map(|(k, _)| *k).collect()
    };
    let writable_signers: Vec<Pubkey> = std::iter::once(*vault).chain(group(true, true)).collect();
    let readonly_signers = group(true, false);
    let writable_non_signers = group(false, true);
    let readonly_non_signers = group(false, false);
    let keys: Vec<Pubkey> = [&writable_signers, &readonly_signers, &writable_non_signers, &readonly_non_signers]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    if keys.len() > usize::from(u8::MAX) {
        return Err(MessageError::TooManyAccounts(keys.len()));
    }
    let index = |key: &Pubkey| keys.iter().position(|k| k == key).expect("every key was collected") as u8;
    let compiled = instructions
        .iter()
        .map(|ix| {
            if ix.data.len() > usize::from(u16::MAX) {
                return Err(MessageError::DataTooLong(ix.data.len()));
            }
            Ok(MultisigCompiledInstruction {
                program_id_index: index(&ix.program_id),
                account_indexes: ix.accounts.iter().map(|a| index(&a.pubkey)).collect(),
                data: ix.data.clone(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(VaultTransactionMessage {
        num_signers: (writable_signers.len() + readonly_signers.len()) as u8,
        num_writable_signers: writable_signers.len() as u8,
        num_writable_non_signers: writable_non_signers.len() as u8,
        account_keys: keys,
        instructions: compiled,
        address_table_lookups: Vec::new(),
    })
}

/// The compact `TransactionMessage` bytes `vault_transaction_create` takes.
pub fn encode(message: &VaultTransactionMessage) -> Vec<u8> {
    let mut out = vec![message.num_signers, message.num_writable_signers, message.num_writable_non_signers];
    out.push(message.account_keys.len() as u8);
    for key in &message.account_keys {
        out.extend_from_slice(key.as_ref());
    }
    out.push(message.instructions.len() as u8);
    for ix in &message.instructions {
        out.push(ix.program_id_index);
        out.push(ix.account_indexes.len() as u8);
        out.extend_from_slice(&ix.account_indexes);
        out.extend_from_slice(&(ix.data.len() as u16).to_le_bytes());
        out.extend_from_slice(&ix.data);
    }
    out.push(message.address_table_lookups.len() as u8);
    for lookup in &message.address_table_lookups {
        out.extend_from_slice(lookup.account_key.as_ref());
        out.push(lookup.writable_indexes.len() as u8);
        out.extend_from_slice(&lookup.writable_indexes);
        out.push(lookup.readonly_indexes.len() as u8);
        out.extend_from_slice(&lookup.readonly_indexes);
    }
    out
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], MessageError> {
        if self.0.len() < n {
            return Err(MessageError::Malformed("truncated"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, MessageError> {
        Ok(self.take(1)?[0])
    }

    fn bytes_u8_len(&mut self) -> Result<Vec<u8>, MessageError> {
        let n = usize::from(self.u8()?);
        Ok(self.take(n)?.to_vec())
    }

    fn pubkey(&mut self) -> Result<Pubkey, MessageError> {
        Ok(Pubkey::try_from(self.take(32)?).expect("32 bytes"))
    }
}

/// Decodes compact `TransactionMessage` bytes and applies upstream's validation (the
/// `TryFrom<TransactionMessage> for VaultTransactionMessage` checks).
pub fn decode(bytes: &[u8]) -> Result<VaultTransactionMessage, MessageError> {
    let mut r = Reader(bytes);
    let (num_signers, num_writable_signers, num_writable_non_signers) = (r.u8()?, r.u8()?, r.u8()?);
    let account_keys = (0..r.u8()?).map(|_| r.pubkey()).collect::<Result<Vec<_>, _>>()?;
    let mut instructions = Vec::new();
    for _ in 0..r.u8()? {
        let program_id_index = r.u8()?;
        let account_indexes = r.bytes_u8_len()?;
        let len = u16::from_le_bytes(r.take(2)?.try_into().expect("2 bytes"));
        let data = r.take(usize::from(len))?.to_vec();
        instructions.push(MultisigCompiledInstruction { program_id_index, account_indexes, data });
    }
    let mut address_table_lookups = Vec::new();
    for _ in 0..r.u8()? {
        let account_key = r.pubkey()?;
        let writable_indexes = r.bytes_u8_len()?;
        let readonly_indexes = r.bytes_u8_len()?;
        address_table_lookups.push(crate::squads::accounts::MultisigMessageAddressTableLookup {
            account_key,
            writable_indexes,
            readonly_indexes,
        });
    }
    let message = VaultTransactionMessage {
        num_signers,
        num_writable_signers,
        num_writable_non_signers,
        account_keys,
        instructions,
        address_table_lookups,
    };
    validate(&message)?;
    Ok(message)
}

fn validate(m: &VaultTransactionMessage) -> Result<(), MessageError> {
    let keys = m.account_keys.len();
    let all = keys
        + m.address_table_lookups.iter().map(|l| l.writable_indexes.len() + l.readonly_indexes.len()).sum::<usize>();
    if usize::from(m.num_signers) > keys
        || m.num_writable_signers > m.num_signers
        || usize::from(m.num_writable_non_signers) > keys - usize::from(m.num_signers)
    {
        return Err(MessageError::Malformed("header counts exceed the account keys"));
    }
    for ix in &m.instructions {
        if usize::from(ix.program_id_index) >= all || ix.account_indexes.iter().any(|i| usize::from(*i) >= all) {
            return Err(MessageError::Malformed("an index is out of range"));
        }
    }
    Ok(())
}

/// The instructions a stored message runs when executed (no lookup tables), with signer and
/// writable flags as upstream derives them.
pub fn instructions(message: &VaultTransactionMessage) -> Result<Vec<Instruction>, MessageError> {
    if !message.address_table_lookups.is_empty() {
        return Err(MessageError::Malformed("address lookup tables are not supported"));
    }
    let key = |i: u8| message.account_keys.get(usize::from(i)).copied().ok_or(MessageError::Malformed("index"));
    message
        .instructions
        .iter()
        .map(|ix| {
            let accounts = ix
                .account_indexes
                .iter()
                .map(|&i| {
                    let (pubkey, index) = (key(i)?, usize::from(i));
                    Ok(AccountMeta {
                        pubkey,
                        is_signer: message.is_signer_index(index),
                        is_writable: message.is_static_writable_index(index),
                    })
                })
                .collect::<Result<Vec<_>, MessageError>>()?;
            Ok(Instruction { program_id: key(ix.program_id_index)?, accounts, data: ix.data.clone() })
        })
        .collect()
}
