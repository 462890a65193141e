//! The safetensors format, written and read by hand (it is small, and owning it lets every
//! error name the file): an 8-byte little-endian header length n, n bytes of JSON
//! `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, …, "__metadata__": {str: str}}`
//! padded with spaces to a multiple of 8, then the tensors' little-endian bytes, offsets
//! relative to the end of the header. Files load with the `safetensors` Python package,
//! PyTorch, numpy (tools/load_checkpoint.py) and this module alike.

use std::collections::BTreeMap;
use std::path::Path;

use half::f16;
use serde_json::{json, Map, Value};

use crate::io::atomic::write_atomic;
use crate::{Error, Result};

/// The safetensors reference reader's limit; anything larger is a corrupt length field.
const MAX_HEADER_BYTES: u64 = 100_000_000;

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
    /// The safetensors dtype name.
    pub fn dtype(&self) -> &'static str {
        match self {
            TensorData::F32(_) => "F32",
            TensorData::F16(_) => "F16",
            TensorData::I64(_) => "I64",
            TensorData::U8(_) => "U8",
            TensorData::U32(_) => "U32",
            TensorData::U64(_) => "U64",
            TensorData::Bool(_) => "BOOL",
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

    fn from_le_bytes(dtype: &str, b: &[u8]) -> Option<TensorData> {
        fn words<const N: usize, T>(b: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
            b.chunks_exact(N).map(|c| f(c.try_into().expect("chunk of N bytes"))).collect()
        }
        Some(match dtype {
            "F32" => TensorData::F32(words(b, f32::from_le_bytes)),
            "F16" => TensorData::F16(words(b, f16::from_le_bytes)),
            "I64" => TensorData::I64(words(b, i64::from_le_bytes)),
            "U8" => TensorData::U8(b.to_vec()),
            "U32" => TensorData::U32(words(b, u32::from_le_bytes)),
            "U64" => TensorData::U64(words(b, u64::from_le_bytes)),
            "BOOL" => TensorData::Bool(b.iter().map(|&x| x != 0).collect()),
            _ => return None,
        })
    }
}

/// Bytes per element of a dtype this module knows.
fn dtype_size(dtype: &str) -> Option<usize> {
    Some(match dtype {
        "U8" | "BOOL" => 1,
        "F16" => 2,
        "F32" | "U32" => 4,
        "I64" | "U64" => 8,
        _ => return None,
    })
}

/// A named tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: TensorData,
}

impl Tensor {
    /// Panics if the shape does not hold exactly `data.len()` elements.
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

/// The file's bytes. Tensor data follow the order of `tensors`.
pub fn to_bytes(tensors: &[Tensor], metadata: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    let mut header = Map::new();
    let mut offset = 0usize;
    for t in tensors {
        if t.name == "__metadata__" || header.contains_key(&t.name) {
            return Err(Error::msg(format!("safetensors: duplicate or reserved tensor name '{}'", t.name)));
        }
        let end = offset + t.data.len() * dtype_size(t.data.dtype()).expect("known dtype");
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

/// Parses a whole file; `origin` (the path) starts every error message.
pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<SafeTensors> {
    let bad = |why: String| Error::msg(format!("{origin}: {why}"));
    if bytes.len() < 8 {
        return Err(bad(format!("not a safetensors file ({} bytes, shorter than the 8-byte header length)", bytes.len())));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if n > MAX_HEADER_BYTES || n > (bytes.len() - 8) as u64 {
        return Err(bad(format!("truncated or corrupt: header length {n} but the file has {} bytes", bytes.len())));
    }
    let data = &bytes[8 + n as usize..];
    let header: Map<String, Value> = serde_json::from_slice(&bytes[8..8 + n as usize]).map_err(|e| bad(format!("corrupt header: {e}")))?;

    let mut metadata = BTreeMap::new();
    let mut entries = vec![];
    for (name, info) in header {
        if name == "__metadata__" {
            let map = info.as_object().ok_or_else(|| bad("corrupt header: __metadata__ is not an object".into()))?;
            for (k, v) in map {
                let s = v.as_str().ok_or_else(|| bad(format!("corrupt header: metadata '{k}' is not a string")))?;
                metadata.insert(k.clone(), s.to_string());
            }
            continue;
        }
        let (dtype, shape, begin, end) = parse_entry(&info).ok_or_else(|| bad(format!("corrupt header entry for tensor '{name}'")))?;
        let size = dtype_size(&dtype).ok_or_else(|| bad(format!("tensor '{name}' has unsupported dtype {dtype}")))?;
        let elements = shape.iter().try_fold(1usize, |a, &s| a.checked_mul(s));
        if end < begin || elements.and_then(|e| e.checked_mul(size)) != Some(end - begin) {
            return Err(bad(format!("corrupt header: tensor '{name}' offsets [{begin}, {end}] do not fit shape {shape:?} of {dtype}")));
        }
        entries.push((begin, end, name, dtype, shape));
    }
    entries.sort_by_key(|e| (e.0, e.1));
    let mut expected = 0;
    for (begin, end, name, _, _) in &entries {
        if *begin != expected {
            return Err(bad(format!("corrupt header: tensor '{name}' starts at byte {begin}, expected {expected}")));
        }
        expected = *end;
    }
    if expected != data.len() {
        let why = if expected > data.len() { "truncated" } else { "corrupt" };
        return Err(bad(format!("{why}: tensors need {expected} data bytes, the file holds {}", data.len())));
    }
    let tensors = entries
        .into_iter()
        .map(|(begin, end, name, dtype, shape)| {
            let values = TensorData::from_le_bytes(&dtype, &data[begin..end]).expect("dtype checked above");
            Tensor { name, shape, data: values }
        })
        .collect();
    Ok(SafeTensors { tensors, metadata })
}

/// (dtype, shape, begin, end) of a header entry, or None if it is malformed.
fn parse_entry(info: &Value) -> Option<(String, Vec<usize>, usize, usize)> {
    let dtype = info.get("dtype")?.as_str()?.to_string();
    let shape = info.get("shape")?.as_array()?.iter().map(|d| d.as_u64().map(|d| d as usize)).collect::<Option<Vec<_>>>()?;
    let offsets = info.get("data_offsets")?.as_array()?;
    if offsets.len() != 2 {
        return None;
    }
    Some((dtype, shape, offsets[0].as_u64()? as usize, offsets[1].as_u64()? as usize))
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
            ("empty", vec![], "not a safetensors file"),
            ("header cut", good[..8 + n / 2].to_vec(), "truncated or corrupt: header length"),
            ("data cut", good[..good.len() - 3].to_vec(), "truncated: tensors need"),
            ("data extra", [good.clone(), vec![0]].concat(), "corrupt: tensors need"),
            ("header garbage", { let mut b = good.clone(); b[9] = b'#'; b }, "corrupt header"),
            ("huge length", { let mut b = good.clone(); b[7] = 0xff; b }, "truncated or corrupt: header length"),
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

    #[test]
    fn inconsistent_offsets_are_rejected() {
        let head = br#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#;
        let mut b = (head.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(head);
        b.extend_from_slice(&[0; 8]);
        let e = from_bytes(&b, "f").unwrap_err().to_string();
        assert!(e.contains("do not fit shape [3]"), "{e}");
        let head = br#"{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}"#;
        let mut b = (head.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(head);
        b.extend_from_slice(&[0; 2]);
        assert!(from_bytes(&b, "f").unwrap_err().to_string().contains("unsupported dtype BF16"));
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let t = Tensor::new("a", &[1], TensorData::U8(vec![1]));
        assert!(to_bytes(&[t.clone(), t], &BTreeMap::new()).is_err());
    }
}
