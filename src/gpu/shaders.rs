//! Every WGSL source, embedded at compile time. Kernels refer to these constants;
//! `ALL` lets one test parse and validate every shader with naga.

pub const MATMUL: &str = include_str!("../../shaders/matmul.wgsl");
pub const ELEMENTWISE: &str = include_str!("../../shaders/elementwise.wgsl");
pub const FFT: &str = include_str!("../../shaders/fft.wgsl");

/// (file name, source) of every shader in `shaders/`.
pub const ALL: &[(&str, &str)] = &[
    ("matmul.wgsl", MATMUL),
    ("elementwise.wgsl", ELEMENTWISE),
    ("fft.wgsl", FFT),
];
