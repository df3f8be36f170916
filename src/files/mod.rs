//! Files and the engine: `boundary` decides which files runbooks may read (and refuses key
//! files as data); `private` creates the files the engine writes that hold operational detail
//! (logs, journal, plans, state) readable by their owner alone.

pub mod boundary;
pub mod faults;
pub mod private;
