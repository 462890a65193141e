//! Every WGSL source, embedded at compile time. Kernels refer to these constants;
//! `ALL` lets one test parse and validate every shader with naga.

pub const MATMUL: &str = include_str!("../../shaders/matmul.wgsl");
pub const ELEMENTWISE: &str = include_str!("../../shaders/elementwise.wgsl");
pub const CROSS_ENTROPY: &str = include_str!("../../shaders/cross_entropy.wgsl");
pub const ATTENTION: &str = include_str!("../../shaders/attention.wgsl");
pub const OPTIMIZER: &str = include_str!("../../shaders/optimizer.wgsl");

/// (file name, source) of every shader in `shaders/`.
pub const ALL: &[(&str, &str)] = &[
    ("matmul.wgsl", MATMUL),
    ("elementwise.wgsl", ELEMENTWISE),
    ("cross_entropy.wgsl", CROSS_ENTROPY),
    ("attention.wgsl", ATTENTION),
    ("optimizer.wgsl", OPTIMIZER),
];
