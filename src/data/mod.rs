//! The data: tasks (modular arithmetic and S₅ composition) and their tables, the train/validation split, tokens and
//! minibatch order.

pub mod batches;
pub mod modular;
pub mod split;
pub mod symmetric;
pub mod task;
pub mod tokens;

pub use batches::BatchSchedule;
pub use modular::{discrete_log_order, is_prime, mod_inverse, primitive_root};
pub use split::Split;
pub use task::{Table, Task};
