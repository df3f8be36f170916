//! The zero-copy (`#[repr(C)]`) form of `Model` inside the coordinator account: 4-byte tags,
//! unions aligned to their largest variant, `Option`s as a tag byte before the value, and
//! `HubRepo`/`GcsRepo` with the `Option` placed first (as upstream's compiler laid them out).
//! Offsets are relative to the start of each value. Padding is never read.

use crate::psyche::layout::{LayoutError, Reader, Writer};
use crate::psyche::model::{
    Architecture, Checkpoint, DataLocation, DataType, GcsRepo, HttpDataLocation, HttpLocation, HubRepo, Llm,
    LrSchedule, Model, Optimizer, Shuffle, TokenSize,
};

pub const MODEL_SIZE: usize = 552;
const LLM: usize = 8;
const MAX_SEQ_LEN: usize = LLM;
const COLD_START: usize = LLM + 4;
const ARCHITECTURE: usize = LLM + 8;
const CHECKPOINT: usize = LLM + 12;
const DATA_TYPE: usize = LLM + 148;
const DATA_LOCATION: usize = LLM + 152;
const LR_SCHEDULE: usize = LLM + 456;
const OPTIMIZER: usize = LLM + 512;

/// Payload offsets inside `HubRepo`/`GcsRepo` (129 bytes): option tag, optional string, name.
const REPO_OPTION: usize = 0;
const REPO_OPTION_VALUE: usize = 1;
const REPO_NAME: usize = 65;

pub fn read_model(r: &Reader, at: usize) -> Result<Model, LayoutError> {
    let tag = r.u32(at);
    if tag != 0 {
        return Err(LayoutError::bad_tag("model", at, tag));
    }
    Ok(Model::LLM(Llm {
        max_seq_len: r.u32(at + MAX_SEQ_LEN),
        cold_start_warmup_steps: r.u32(at + COLD_START),
        architecture: match r.u32(at + ARCHITECTURE) {
            0 => Architecture::HfLlama,
            1 => Architecture::HfDeepseek,
            2 => Architecture::HfAuto,
            3 => Architecture::Torchtitan,
            t => {
                return Err(LayoutError::bad_tag("model.architecture", at + ARCHITECTURE, t));
            }
        },
        checkpoint: read_checkpoint(r, at + CHECKPOINT)?,
        data_type: match r.u32(at + DATA_TYPE) {
            0 => DataType::Pretraining,
            1 => DataType::Finetuning,
            t => return Err(LayoutError::bad_tag("model.data_type", at + DATA_TYPE, t)),
        },
        data_location: read_data_location(r, at + DATA_LOCATION)?,
        lr_schedule: read_lr_schedule(r, at + LR_SCHEDULE)?,
        optimizer: read_optimizer(r, at + OPTIMIZER)?,
    }))
}

pub fn write_model(w: &mut Writer, at: usize, model: &Model) {
    let llm = model.llm();
    w.u32(at, 0);
    w.u32(at + MAX_SEQ_LEN, llm.max_seq_len);
    w.u32(at + COLD_START, llm.cold_start_warmup_steps);
    w.u32(at + ARCHITECTURE, llm.architecture as u32);
    write_checkpoint(w, at + CHECKPOINT, &llm.checkpoint);
    w.u32(at + DATA_TYPE, llm.data_type as u32);
    write_data_location(w, at + DATA_LOCATION, &llm.data_location);
    write_lr_schedule(w, at + LR_SCHEDULE, &llm.lr_schedule);
    write_optimizer(w, at + OPTIMIZER, &llm.optimizer);
}

fn read_hub(r: &Reader, at: usize) -> Result<HubRepo, LayoutError> {
    Ok(HubRepo {
        repo_id: r.fixed(at + REPO_NAME),
        revision: r.option(at + REPO_OPTION, "model.checkpoint.revision", || r.fixed(at + REPO_OPTION_VALUE))?,
    })
}

fn read_gcs(r: &Reader, at: usize) -> Result<GcsRepo, LayoutError> {
    Ok(GcsRepo {
        bucket: r.fixed(at + REPO_NAME),
        prefix: r.option(at + REPO_OPTION, "model.checkpoint.prefix", || r.fixed(at + REPO_OPTION_VALUE))?,
    })
}

pub fn read_checkpoint(r: &Reader, at: usize) -> Result<Checkpoint, LayoutError> {
    let p = at + 4;
    Ok(match r.u32(at) {
        0 => Checkpoint::Ephemeral,
        1 => Checkpoint::Dummy(read_hub(r, p)?),
        2 => Checkpoint::Hub(read_hub(r, p)?),
        3 => Checkpoint::P2P(read_hub(r, p)?),
        4 => Checkpoint::Gcs(read_gcs(r, p)?),
        5 => Checkpoint::P2PGcs(read_gcs(r, p)?),
        t => return Err(LayoutError::bad_tag("model.checkpoint", at, t)),
    })
}

pub fn write_checkpoint(w: &mut Writer, at: usize, c: &Checkpoint) {
    let p = at + 4;
    let (tag, name, option) = match c {
        Checkpoint::Ephemeral => (0, None, None),
        Checkpoint::Dummy(h) => (1, Some(&h.repo_id), Some(&h.revision)),
        Checkpoint::Hub(h) => (2, Some(&h.repo_id), Some(&h.revision)),
        Checkpoint::P2P(h) => (3, Some(&h.repo_id), Some(&h.revision)),
        Checkpoint::Gcs(g) => (4, Some(&g.bucket), Some(&g.prefix)),
        Checkpoint::P2PGcs(g) => (5, Some(&g.bucket), Some(&g.prefix)),
    };
    w.u32(at, tag);
    if let (Some(name), Some(option)) = (name, option) {
        w.fixed(p + REPO_NAME, name);
        w.option(p + REPO_OPTION, option, |w, v| w.fixed(p + REPO_OPTION_VALUE, v));
    }
}

fn read_data_location(r: &Reader, at: usize) -> Result<DataLocation, LayoutError> {
    let p = at + 4;
    Ok(match r.u32(at) {
        0 => DataLocation::Dummy,
        1 => DataLocation::Server(r.fixed(p)),
        2 => DataLocation::Local(r.fixed(p)),
        3 => DataLocation::Http(read_http(r, p)?),
        4 => DataLocation::WeightedHttp(r.fixed(p)),
        5 => DataLocation::Preprocessed(r.fixed(p)),
        t => return Err(LayoutError::bad_tag("model.data_location", at, t)),
    })
}

fn write_data_location(w: &mut Writer, at: usize, d: &DataLocation) {
    let p = at + 4;
    match d {
        DataLocation::Dummy => w.u32(at, 0),
        DataLocation::Server(s) => {
            w.u32(at, 1);
            w.fixed(p, s);
        }
        DataLocation::Local(s) => {
            w.u32(at, 2);
            w.fixed(p, s);
        }
        DataLocation::Http(h) => {
            w.u32(at, 3);
            write_http(w, p, h);
        }
        DataLocation::WeightedHttp(s) => {
            w.u32(at, 4);
            w.fixed(p, s);
        }
        DataLocation::Preprocessed(s) => {
            w.u32(at, 5);
            w.fixed(p, s);
        }
    }
}

const HTTP_TOKEN_SIZE: usize = 260;
const HTTP_SHUFFLE: usize = 264;

fn read_http(r: &Reader, at: usize) -> Result<HttpDataLocation, LayoutError> {
    let p = at + 4;
    let location = match r.u32(at) {
        0 => HttpLocation::SingleUrl(r.fixed(p)),
        1 => HttpLocation::NumberedFiles {
            url_template: r.fixed(p),
            start_index: r.u32(at + 68),
            n_left_pad_zeros: r.u8(at + 72),
            num_files: r.u32(at + 76),
        },
        2 => HttpLocation::Gcp { bucket_name: r.fixed(p), filter_directory: r.fixed(at + 68) },
        t => {
            return Err(LayoutError::bad_tag("model.data_location.Http.location", at, t));
        }
    };
    let token_size_in_bytes = match r.u32(at + HTTP_TOKEN_SIZE) {
        0 => TokenSize::TwoBytes,
        1 => TokenSize::FourBytes,
        t => {
            return Err(LayoutError::bad_tag("model.data_location.Http.token_size_in_bytes", at + HTTP_TOKEN_SIZE, t));
        }
    };
    let shuffle = match r.u32(at + HTTP_SHUFFLE) {
        0 => Shuffle::DontShuffle,
        1 => Shuffle::Seeded(r.array(at + HTTP_SHUFFLE + 4)),
        t => {
            return Err(LayoutError::bad_tag("model.data_location.Http.shuffle", at + HTTP_SHUFFLE, t));
        }
    };
    Ok(HttpDataLocation { location, token_size_in_bytes, shuffle })
}

fn write_http(w: &mut Writer, at: usize, h: &HttpDataLocation) {
    let p = at + 4;
    match &h.location {
        HttpLocation::SingleUrl(url) => {
            w.u32(at, 0);
            w.fixed(p, url);
        }
        HttpLocation::NumberedFiles { url_template, start_index, n_left_pad_zeros, num_files } => {
            w.u32(at, 1);
            w.fixed(p, url_template);
            w.u32(at + 68, *start_index);
            w.u8(at + 72, *n_left_pad_zeros);
            w.u32(at + 76, *num_files);
        }
        HttpLocation::Gcp { bucket_name, filter_directory } => {
            w.u32(at, 2);
            w.fixed(p, bucket_name);
            w.fixed(at + 68, filter_directory);
        }
    }
    w.u32(at + HTTP_TOKEN_SIZE, h.token_size_in_bytes as u32);
    match &h.shuffle {
        Shuffle::DontShuffle => w.u32(at + HTTP_SHUFFLE, 0),
        Shuffle::Seeded(seed) => {
            w.u32(at + HTTP_SHUFFLE, 1);
            w.bytes(at + HTTP_SHUFFLE + 4, seed);
        }
    }
}

fn read_lr_schedule(r: &Reader, at: usize) -> Result<LrSchedule, LayoutError> {
    let (base_lr, warmup_init_lr) = (r.f64(at + 8), r.f64(at + 16));
    Ok(match r.u32(at) {
        0 => LrSchedule::Constant { base_lr, warmup_init_lr, warmup_steps: r.u32(at + 24) },
        1 => LrSchedule::Linear {
            base_lr,
            warmup_init_lr,
            final_lr: r.f64(at + 24),
            warmup_steps: r.u32(at + 32),
            total_steps: r.u32(at + 36),
        },
        2 => LrSchedule::Cosine {
            base_lr,
            warmup_init_lr,
            final_lr: r.f64(at + 24),
            warmup_steps: r.u32(at + 32),
            total_steps: r.u32(at + 36),
        },
        3 => LrSchedule::WarmupStableDecay {
            base_lr,
            warmup_init_lr,
            cosine_decay_final_lr: r.f64(at + 24),
            linear_decay_final_lr: r.f64(at + 32),
            warmup_steps: r.u32(at + 40),
            stable_steps: r.u32(at + 44),
            cosine_decay_steps: r.u32(at + 48),
            linear_decay_steps: r.u32(at + 52),
        },
        t => return Err(LayoutError::bad_tag("model.lr_schedule", at, t)),
    })
}

fn write_lr_schedule(w: &mut Writer, at: usize, lr: &LrSchedule) {
    match *lr {
        LrSchedule::Constant { base_lr, warmup_init_lr, warmup_steps } => {
            w.u32(at, 0);
            w.f64(at + 8, base_lr);
            w.f64(at + 16, warmup_init_lr);
            w.u32(at + 24, warmup_steps);
        }
        LrSchedule::Linear { base_lr, warmup_init_lr, final_lr, warmup_steps, total_steps }
        | LrSchedule::Cosine { base_lr, warmup_init_lr, final_lr, warmup_steps, total_steps } => {
            w.u32(at, if matches!(lr, LrSchedule::Linear { .. }) { 1 } else { 2 });
            w.f64(at + 8, base_lr);
            w.f64(at + 16, warmup_init_lr);
            w.f64(at + 24, final_lr);
            w.u32(at + 32, warmup_steps);
            w.u32(at + 36, total_steps);
        }
        LrSchedule::WarmupStableDecay {
            base_lr,
            warmup_init_lr,
            cosine_decay_final_lr,
            linear_decay_final_lr,
            warmup_steps,
            stable_steps,
            cosine_decay_steps,
            linear_decay_steps,
        } => {
            w.u32(at, 3);
            w.f64(at + 8, base_lr);
            w.f64(at + 16, warmup_init_lr);
            w.f64(at + 24, cosine_decay_final_lr);
            w.f64(at + 32, linear_decay_final_lr);
            w.u32(at + 40, warmup_steps);
            w.u32(at + 44, stable_steps);
            w.u32(at + 48, cosine_decay_steps);
            w.u32(at + 52, linear_decay_steps);
        }
    }
}

fn read_opt_f32(r: &Reader, at: usize, field: &'static str) -> Result<Option<f32>, LayoutError> {
    r.option(at, field, || r.f32(at + 4))
}

fn read_optimizer(r: &Reader, at: usize) -> Result<Optimizer, LayoutError> {
    Ok(match r.u32(at) {
        0 => Optimizer::Dummy,
        1 => Optimizer::AdamW {
            betas: [r.f32(at + 4), r.f32(at + 8)],
            weight_decay: r.f32(at + 12),
            eps: r.f32(at + 16),
            clip_grad_norm: read_opt_f32(r, at + 20, "model.optimizer.AdamW.clip_grad_norm")?,
        },
        2 => Optimizer::Distro {
            clip_grad_norm: read_opt_f32(r, at + 4, "model.optimizer.Distro.clip_grad_norm")?,
            weight_decay: read_opt_f32(r, at + 12, "model.optimizer.Distro.weight_decay")?,
            compression_decay: r.f32(at + 20),
            compression_topk: r.u16(at + 24),
            compression_chunk: r.u16(at + 26),
            quantize_1bit: r.bool(at + 28),
        },
        t => return Err(LayoutError::bad_tag("model.optimizer", at, t)),
    })
}

fn write_optimizer(w: &mut Writer, at: usize, o: &Optimizer) {
    let opt_f32 = |w: &mut Writer, at: usize, v: &Option<f32>| w.option(at, v, |w, v| w.f32(at + 4, *v));
    match o {
        Optimizer::Dummy => w.u32(at, 0),
        Optimizer::AdamW { betas, weight_decay, eps, clip_grad_norm } => {
            w.u32(at, 1);
            w.f32(at + 4, betas[0]);
            w.f32(at + 8, betas[1]);
            w.f32(at + 12, *weight_decay);
            w.f32(at + 16, *eps);
            opt_f32(w, at + 20, clip_grad_norm);
        }
        Optimizer::Distro {
            clip_grad_norm,
            weight_decay,
            compression_decay,
            compression_topk,
            compression_chunk,
            quantize_1bit,
        } => {
            w.u32(at, 2);
            opt_f32(w, at + 4, clip_grad_norm);
            opt_f32(w, at + 12, weight_decay);
            w.f32(at + 20, *compression_decay);
            w.u16(at + 24, *compression_topk);
            w.u16(at + 26, *compression_chunk);
            w.bool(at + 28, *quantize_1bit);
        }
    }
}
