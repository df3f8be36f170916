//! The outcome of executing a transaction on the embedded chain: what LiteSVM reports (logs,
//! compute units, fee, inner instructions, return data) and the error if it failed.

use litesvm::types::TransactionMetadata;
use solana_sdk::message::inner_instruction::InnerInstructionsList;
use solana_sdk::signature::Signature;
use solana_sdk::transaction::TransactionError;
use solana_transaction_context::TransactionReturnData;

/// The outcome of executing a transaction: its metadata, and the error if it failed.
#[derive(Debug, Clone)]
pub struct Executed {
    pub signature: Signature,
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub compute_units: u64,
    pub fee: u64,
    pub inner_instructions: InnerInstructionsList,
    pub return_data: TransactionReturnData,
}

impl Executed {
    pub fn from_result(result: litesvm::types::TransactionResult) -> Self {
        let (meta, err): (TransactionMetadata, _) = match result {
            Ok(meta) => (meta, None),
            Err(failed) => (failed.meta, Some(failed.err)),
        };
        Self::from_meta(meta, err)
    }

    pub fn from_meta(meta: TransactionMetadata, err: Option<TransactionError>) -> Self {
        Executed {
            signature: meta.signature,
            err,
            logs: meta.logs,
            compute_units: meta.compute_units_consumed,
            fee: meta.fee,
            inner_instructions: meta.inner_instructions,
            return_data: meta.return_data,
        }
    }

    /// A transaction refused before it ran (an unknown blockhash, a repeat).
    pub fn refused(signature: Signature, err: TransactionError) -> Self {
        Executed {
            signature,
            err: Some(err),
            logs: Vec::new(),
            compute_units: 0,
            fee: 0,
            inner_instructions: Vec::new(),
            return_data: TransactionReturnData::default(),
        }
    }
}
