//! The run directory: its lock and its identity.

pub mod identity;
pub mod lock;

pub use identity::{run_id, RUN_ID_KEY};
pub use lock::{RunLock, LOCK_FILE};
