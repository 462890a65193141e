//! Every WGSL source, embedded at compile time. Kernels refer to these constants;
//! `ALL` lets one test parse and validate every shader with naga.

pub const BATCH: &str = include_str!("../../shaders/batch.wgsl");
pub const NORMS: &str = include_str!("../../shaders/norms.wgsl");
pub const MATMUL: &str = include_str!("../../shaders/matmul.wgsl");
/// matmul.wgsl with the subgroup family appended: a module of its own, since only devices
/// with subgroup operations can build it.
pub const MATMUL_SHARED: &str = concat!(include_str!("../../shaders/matmul.wgsl"), include_str!("../../shaders/matmul_shared.wgsl"));
/// matmul.wgsl with the staged GPU family appended (its own module: its workgroup memory
/// is sized apart from the tiled family's).
pub const MATMUL_STAGED: &str = concat!(include_str!("../../shaders/matmul.wgsl"), include_str!("../../shaders/matmul_staged.wgsl"));
pub const ELEMENTWISE: &str = include_str!("../../shaders/elementwise.wgsl");
pub const CROSS_ENTROPY: &str = include_str!("../../shaders/cross_entropy.wgsl");
pub const ATTENTION: &str = include_str!("../../shaders/attention.wgsl");
pub const OPTIMIZER: &str = include_str!("../../shaders/optimizer.wgsl");
pub const REDUCE: &str = include_str!("../../shaders/reduce.wgsl");
pub const SOFTMAX: &str = include_str!("../../shaders/softmax.wgsl");
pub const LAYERNORM: &str = include_str!("../../shaders/layernorm.wgsl");
pub const EMBEDDING: &str = include_str!("../../shaders/embedding.wgsl");
/// embedding.wgsl with the CPU device's scatter-add appended: a module of its own, since
/// only devices with subgroup operations can build it.
pub const EMBEDDING_LANES: &str = concat!(include_str!("../../shaders/embedding.wgsl"), include_str!("../../shaders/embedding_lanes.wgsl"));
pub const SELECT: &str = include_str!("../../shaders/select.wgsl");
pub const FFT: &str = include_str!("../../shaders/fft.wgsl");
pub const GRAD_FILTERS: &str = include_str!("../../shaders/grad_filters.wgsl");

/// Shaders that guarantee their own bounds (each says how in its header), built without
/// wgpu's injected runtime checks: on the CPU device a checked load costs a compare and a
/// select per element.
pub const TRUSTED: &[&str] = &["matmul.wgsl", "matmul_shared.wgsl", "matmul_staged.wgsl"];

/// (file name, source) of every shader in `shaders/`.
pub const ALL: &[(&str, &str)] = &[
    ("batch.wgsl", BATCH),
    ("norms.wgsl", NORMS),
    ("matmul.wgsl", MATMUL),
    ("matmul_shared.wgsl", MATMUL_SHARED),
    ("matmul_staged.wgsl", MATMUL_STAGED),
    ("elementwise.wgsl", ELEMENTWISE),
    ("cross_entropy.wgsl", CROSS_ENTROPY),
    ("attention.wgsl", ATTENTION),
    ("optimizer.wgsl", OPTIMIZER),
    ("reduce.wgsl", REDUCE),
    ("softmax.wgsl", SOFTMAX),
    ("layernorm.wgsl", LAYERNORM),
    ("embedding.wgsl", EMBEDDING),
    ("embedding_lanes.wgsl", EMBEDDING_LANES),
    ("select.wgsl", SELECT),
    ("fft.wgsl", FFT),
    ("grad_filters.wgsl", GRAD_FILTERS),
];
