//! `grokgpu train` around the GPU step: the trainer (R runs in the same dispatches), its
//! evaluation and checkpoint schedule, resume.

mod device_data;
mod eval;
pub mod fork;
mod minibatch;
mod model;
mod norms;
pub mod options;
mod progress;
mod quicklook;
pub mod run;
pub mod trainer;

pub use options::TrainOptions;
