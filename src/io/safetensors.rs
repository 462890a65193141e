//! The safetensors format: an 8-byte little-endian header length n, n bytes of JSON
//! `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, …, "__metadata__": {str: str}}`
//! padded with spaces to a multiple of 8, then the tensors' little-endian bytes, offsets
//! relative to the end of the header. Files load with the `safetensors` Python package,
//! PyTorch, numpy (tools/load_checkpoint.py) and this module alike.
//!
//! Reading goes through the `safetensors` crate (the format's reference validation), its
//! errors prefixed with the file name. Writing stays here: the crate serializes the
//! metadata from a hash map, whose order changes from one process to the next, and a
//! resumed run must write the same bytes as an uninterrupted one.

use std::collections::BTreeMap;
use std::path::Path;

use half::f16;
use safetensors::{Dtype, SafeTensorError};
use serde_json::{json, Map, Value};

use crate::io::atomic::write_atomic;
use crate::{Error, Result};

/// Element values of one tensor, row-major.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    F16(Vec<f16>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    /// One byte per element, 0 or 1 (TransformerLens's attention-mask buffer).
    Bool(Vec<bool>),
}

impl TensorData {
    pub fn dtype(&self) -> Dtype {
        match self {
            TensorData::F32(_) => Dtype::F32,
            TensorData::F16(_) => Dtype::F16,
            TensorData::I64(_) => Dtype::I64,
            TensorData::U8(_) => Dtype::U8,
            TensorData::U32(_) => Dtype::U32,
            TensorData::U64(_) => Dtype::U64,
            TensorData::Bool(_) => Dtype::BOOL,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::F16(v) => v.len(),
            TensorData::I64(v) => v.len(),
            TensorData::U8(v) => v.len(),
            TensorData::U32(v) => v.len(),
            TensorData::U64(v) => v.len(),
            TensorData::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Floating-point values widened to f32 (F16 exactly); None for integer tensors.
    pub fn to_f32(&self) -> Option<Vec<f32>> {
        match self {
            TensorData::F32(v) => Some(v.clone()),
            TensorData::F16(v) => Some(v.iter().map(|h| h.to_f32()).collect()),
            _ => None,
        }
    }

    /// f32 values rounded to f16 (round to nearest even), for half-size checkpoints.
    pub fn f16_from_f32(v: &[f32]) -> TensorData {
        TensorData::F16(v.iter().map(|&x| f16::from_f32(x)).collect())
    }

    fn to_le_bytes(&self) -> Vec<u8> {
        match self {
            TensorData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            TensorData::F16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            TensorData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            TensorData::U8(v) => v.clone(),
            TensorData::U32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            TensorData::U64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            TensorData::Bool(v) => v.iter().map(|&x| u8::from(x)).collect(),
        }
    }

    /// The values of `b` (whose length the crate has checked against the shape); None for a
    /// dtype grokgpu does not use.
    fn from_le_bytes(dtype: Dtype, b: &[u8]) -> Option<TensorData> {
        fn words<const N: usize, T>(b: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
            b.chunks_exact(N).map(|c| f(c.try_into().expect("chunk of N bytes"))).collect()
        }
        Some(match dtype {
            Dtype::F32 => TensorData::F32(words(b, f32::from_le_bytes)),
            Dtype::F16 => TensorData::F16(words(b, f16::from_le_bytes)),
            Dtype::I64 => TensorData::I64(words(b, i64::from_le_bytes)),
            Dtype::U8 => TensorData::U8(b.to_vec()),
            Dtype::U32 => TensorData::U32(words(b, u32::from_le_bytes)),
            Dtype::U64 => TensorData::U64(words(b, u64::from_le_bytes)),
            Dtype::BOOL => TensorData::Bool(b.iter().map(|&x| x != 0).collect()),
            _ => return None,
        })
    }
}

/// A named tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: TensorData,
}

impl Tensor {
    /// Panics if the shape does not hold exactly `data.len()` elements (a bug of the caller,
    /// never a property of a file: files are checked by the reader).
    pub fn new(name: impl Into<String>, shape: &[usize], data: TensorData) -> Tensor {
        let name = name.into();
        assert_eq!(shape.iter().product::<usize>(), data.len(), "tensor {name}: shape {shape:?} vs {} values", data.len());
        Tensor { name, shape: shape.to_vec(), data }
    }
}

/// A whole file: its tensors in data order, and its string metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct SafeTensors {
    pub tensors: Vec<Tensor>,
    pub metadata: BTreeMap<String, String>,
}

impl SafeTensors {
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// The file's bytes. Tensor data follow the order of `tensors`; header keys are sorted, so
/// equal inputs give equal bytes.
pub fn to_bytes(tensors: &[Tensor], metadata: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    let mut header = Map::new();
    let mut offset = 0usize;
    for t in tensors {
        if t.name == "__metadata__" || header.contains_key(&t.name) {
            return Err(Error::msg(format!("safetensors: duplicate or reserved tensor name '{}'", t.name)));
        }
        let end = offset + t.data.len() * t.data.dtype().bitsize() / 8;
        header.insert(t.name.clone(), json!({ "dtype": t.data.dtype(), "shape": t.shape, "data_offsets": [offset, end] }));
        offset = end;
    }
    if !metadata.is_empty() {
        header.insert("__metadata__".into(), json!(metadata));
    }
    let mut head = serde_json::to_vec(&Value::Object(header))?;
    head.resize(head.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + head.len() + offset);
    out.extend_from_slice(&(head.len() as u64).to_le_bytes());
    out.extend_from_slice(&head);
    for t in tensors {
        out.extend_from_slice(&t.data.to_le_bytes());
    }
    Ok(out)
}

/// What a reader error means to a person holding the file.
fn describe(e: &SafeTensorError) -> String {
    use SafeTensorError::*;
    let what = match e {
        HeaderTooSmall | InvalidHeaderLength | HeaderTooLarge | MetadataIncompleteBuffer => "truncated or not a safetensors file",
        _ => "corrupt safetensors file",
    };
    format!("{what} ({e})")
}

/// Parses and validates a whole file; `origin` (the path) starts every error message.
pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<SafeTensors> {
    let (header_len, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(|e| Error::msg(format!("{origin}: {}", describe(&e))))?;
    let data = &bytes[8 + header_len..];
    let mut tensors = vec![];
    for name in header.offset_keys() {
        let info = header.info(&name).expect("offset_keys lists the header's own names");
        let (begin, end) = info.data_offsets;
        let values = TensorData::from_le_bytes(info.dtype, &data[begin..end])
            .ok_or_else(|| Error::msg(format!("{origin}: tensor '{name}' has dtype {}, which grokgpu does not read", info.dtype)))?;
        tensors.push(Tensor { name, shape: info.shape.clone(), data: values });
    }
    let metadata = header.metadata().clone().unwrap_or_default().into_iter().collect();
    Ok(SafeTensors { tensors, metadata })
}

/// Writes a file atomically (see [`write_atomic`]).
pub fn write(path: &Path, tensors: &[Tensor], metadata: &BTreeMap<String, String>) -> Result<()> {
    write_atomic(path, &to_bytes(tensors, metadata)?)
}

/// Reads and validates a whole file.
pub fn read(path: &Path) -> Result<SafeTensors> {
    let bytes = std::fs::read(path).map_err(|e| Error::msg(format!("cannot read {}: {e}", path.display())))?;
    from_bytes(&bytes, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir;

    fn sample() -> (Vec<Tensor>, BTreeMap<String, String>) {
        let tensors = vec![
            Tensor::new("w", &[2, 3], TensorData::F32(vec![1.0, -2.5, 3.25, 0.0, f32::MIN_POSITIVE, 1e30])),
            Tensor::new("h", &[3], TensorData::f16_from_f32(&[0.1, -65504.0, 3.0])),
            Tensor::new("x", &[4], TensorData::I64(vec![0, -1, i64::MAX, 96])),
            Tensor::new("mask", &[4], TensorData::U8(vec![1, 0, 1, 1])),
            Tensor::new("u", &[1, 1], TensorData::U32(vec![u32::MAX])),
            Tensor::new("rng", &[4], TensorData::U64(vec![1, 2, 3, u64::MAX])),
            Tensor::new("flags", &[3], TensorData::Bool(vec![true, false, true])),
            Tensor::new("empty", &[0, 5], TensorData::F32(vec![])),
            Tensor::new("empty_flags", &[0, 0], TensorData::Bool(vec![])),
            Tensor::new("scalar", &[], TensorData::F32(vec![7.0])),
        ];
        let metadata = BTreeMap::from([("step".to_string(), "12".to_string()), ("config".to_string(), "{\"p\": 97}".to_string())]);
        (tensors, metadata)
    }

    #[test]
    fn round_trip_every_dtype() {
        let (tensors, metadata) = sample();
        let dir = test_dir("safetensors_round_trip");
        let path = dir.join("a.safetensors");
        write(&path, &tensors, &metadata).unwrap();
        let back = read(&path).unwrap();
        assert_eq!(back.tensors, tensors);
        assert_eq!(back.metadata, metadata);
    }

    #[test]
    fn f16_rounds_to_nearest_and_widens_exactly() {
        let t = TensorData::f16_from_f32(&[0.1, 1.0 + 1.0 / 2048.0, 70000.0]);
        let back = t.to_f32().unwrap();
        assert_eq!(back[0], 0.099975586); // nearest f16 to 0.1
        assert_eq!(back[1], 1.0); // halfway case rounds to even
        assert!(back[2].is_infinite()); // beyond the f16 range
        assert_eq!(TensorData::U8(vec![1]).to_f32(), None);
    }

    #[test]
    fn layout_matches_the_format() {
        let t = [Tensor::new("a", &[2], TensorData::F32(vec![1.0, 2.0]))];
        let b = to_bytes(&t, &BTreeMap::new()).unwrap();
        let n = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
        assert_eq!(n % 8, 0);
        let header: Value = serde_json::from_slice(&b[8..8 + n]).unwrap();
        assert_eq!(header, json!({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}));
        assert_eq!(&b[8 + n..], [1.0f32.to_le_bytes(), 2.0f32.to_le_bytes()].concat());
    }

    #[test]
    fn corrupt_and_truncated_files_are_rejected_with_the_file_name() {
        let (tensors, metadata) = sample();
        let good = to_bytes(&tensors, &metadata).unwrap();
        let n = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("empty", vec![], "truncated or not a safetensors file (header too small)"),
            ("header cut", good[..8 + n / 2].to_vec(), "truncated or not a safetensors file (invalid header length)"),
            ("data cut", good[..good.len() - 3].to_vec(), "truncated or not a safetensors file (incomplete metadata"),
            ("data extra", [good.clone(), vec![0]].concat(), "truncated or not a safetensors file (incomplete metadata"),
            ("header garbage", { let mut b = good.clone(); b[9] = b'#'; b }, "corrupt safetensors file (invalid JSON in header"),
            ("huge length", { let mut b = good.clone(); b[7] = 0xff; b }, "truncated or not a safetensors file (header too large)"),
        ];
        for (what, bytes, want) in cases {
            let e = from_bytes(&bytes, "runs/x/step.safetensors").unwrap_err().to_string();
            assert!(e.starts_with("runs/x/step.safetensors: ") && e.contains(want), "{what}: {e}");
        }
        let dir = test_dir("safetensors_corrupt");
        let path = dir.join("cut.safetensors");
        std::fs::write(&path, &good[..good.len() - 1]).unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("cut.safetensors: truncated"), "{e}");
    }

    fn file_with_header(head: &[u8], data_bytes: usize) -> Vec<u8> {
        let mut b = (head.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(head);
        b.extend(std::iter::repeat_n(0, data_bytes));
        b
    }

    #[test]
    fn inconsistent_offsets_and_foreign_dtypes_are_rejected() {
        let b = file_with_header(br#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, 8);
        let e = from_bytes(&b, "f").unwrap_err().to_string();
        assert!(e.contains("invalid shape, data type, or offset"), "{e}");
        let b = file_with_header(br#"{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}"#, 2);
        let e = from_bytes(&b, "f").unwrap_err().to_string();
        assert_eq!(e, "f: tensor 'a' has dtype BF16, which grokgpu does not read");
    }

    #[test]
    fn tensors_stored_in_any_order_read_in_data_order() {
        // Python's safetensors stores tensors sorted by name; the header's key order and the
        // data order need not agree with the writer's.
        let b = file_with_header(br#"{"z":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}  "#, 3);
        let file = from_bytes(&b, "f").unwrap();
        let names: Vec<&str> = file.tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["z", "a"]);
        assert_eq!(file.get("a").unwrap().shape, [2]);
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let t = Tensor::new("a", &[1], TensorData::U8(vec![1]));
        assert!(to_bytes(&[t.clone(), t], &BTreeMap::new()).is_err());
    }
}
