//! `psyche-runbook watch`: a live view of training runs. `read` does one batched read per
//! refresh, `row` derives what an operator watches, `model` keeps the state between refreshes
//! and reacts to keys, `view` draws it with ratatui, `text` prints it without a terminal, and
//! `live` runs the loop. `source` picks where reads go (a cluster, kept current by PubSub
//! pushes through `mirror`, or the embedded localnet's saved state).

pub mod live;
pub mod mirror;
pub mod model;
pub mod read;
pub mod row;
pub mod source;
pub mod text;
pub mod view;
