//! Models and their training rules: parameter layout and initialization, optimizers, losses.

pub mod init;
