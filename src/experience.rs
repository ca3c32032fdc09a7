//! The experience format: how an episode's observations, actions and other
//! values are stored so that C, Rust and Python all read them back exactly.
//!
//! An experience is a safetensors file. Arrays are its tensors (names,
//! dtypes and shapes exact; data little-endian, 8-byte aligned so readers
//! can map arrays in place). Everything else (strings, numbers, lists,
//! nested dicts) travels as a JSON tree in the safetensors metadata under
//! `gmstore.values`, where `{"$tensor": "name"}` stands for a tensor and
//! `{"$bytes": "name"}` for a byte string kept as a `U8` tensor. Loading
//! it never executes code, unlike pickle. See `docs/EXPERIENCE_FORMAT.md`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use safetensors::tensor::{Dtype, SafeTensors, View};

use crate::error::{invalid, Error, Result};

/// Metadata key naming the format and its version.
pub const FORMAT_KEY: &str = "gmstore.format";
/// The current format.
pub const FORMAT: &str = "experience/1";
/// Metadata key of the JSON value tree.
pub const VALUES_KEY: &str = "gmstore.values";

/// Element types, with their stable C codes (`GM_DTYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[repr(u32)]
pub enum DType {
    /// Booleans, one byte each.
    Bool = 1,
    /// U8: unsigned 8-bit.
    U8 = 2,
    /// I8: signed 8-bit.
    I8 = 3,
    /// U16: unsigned 16-bit.
    U16 = 4,
    /// I16: signed 16-bit.
    I16 = 5,
    /// F16: IEEE float 16-bit.
    F16 = 6,
    /// bfloat16.
    BF16 = 7,
    /// U32: unsigned 32-bit.
    U32 = 8,
    /// I32: signed 32-bit.
    I32 = 9,
    /// F32: IEEE float 32-bit.
    F32 = 10,
    /// U64: unsigned 64-bit.
    U64 = 11,
    /// I64: signed 64-bit.
    I64 = 12,
    /// F64: IEEE float 64-bit.
    F64 = 13,
}

const ALL: [DType; 13] = [
    DType::Bool,
    DType::U8,
    DType::I8,
    DType::U16,
    DType::I16,
    DType::F16,
    DType::BF16,
    DType::U32,
    DType::I32,
    DType::F32,
    DType::U64,
    DType::I64,
    DType::F64,
];

impl DType {
    /// The dtype with this C code.
    pub fn from_code(code: u32) -> Option<DType> {
        ALL.into_iter().find(|d| *d as u32 == code)
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        self.safetensors().bitsize() / 8
    }

    fn safetensors(self) -> Dtype {
        match self {
            DType::Bool => Dtype::BOOL,
            DType::U8 => Dtype::U8,
            DType::I8 => Dtype::I8,
            DType::U16 => Dtype::U16,
            DType::I16 => Dtype::I16,
            DType::F16 => Dtype::F16,
            DType::BF16 => Dtype::BF16,
            DType::U32 => Dtype::U32,
            DType::I32 => Dtype::I32,
            DType::F32 => Dtype::F32,
            DType::U64 => Dtype::U64,
            DType::I64 => Dtype::I64,
            DType::F64 => Dtype::F64,
        }
    }

    fn from_safetensors(d: Dtype) -> Option<DType> {
        ALL.into_iter().find(|x| x.safetensors() == d)
    }
}

/// A tensor to encode: borrowed little-endian bytes.
#[derive(Debug, Clone)]
pub struct Tensor<'a> {
    /// Name, unique within the experience.
    pub name: &'a str,
    /// Element type.
    pub dtype: DType,
    /// Extents, outermost first; empty for a scalar.
    pub shape: Vec<usize>,
    /// Raw little-endian elements, row-major.
    pub data: &'a [u8],
}

impl View for &Tensor<'_> {
    fn dtype(&self) -> Dtype {
        self.dtype.safetensors()
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// A decoded tensor: where its bytes lie in the encoded buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    /// Name, unique within the experience.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Extents, outermost first; empty for a scalar.
    pub shape: Vec<usize>,
    /// Byte offset of the data from the start of the encoded buffer.
    pub offset: usize,
    /// Byte length of the tensor's data.
    pub len: usize,
}

/// A decoded experience. Tensor data stays in the caller's buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// In data order (offset ascending).
    pub tensors: Vec<TensorInfo>,
    /// The JSON value tree, if the writer gave one.
    pub values: Option<String>,
}

/// The header key safetensors reserves for its metadata.
const RESERVED_NAME: &str = "__metadata__";

fn element_count(name: &str, shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            invalid(
                &format!("tensors['{name}'].shape"),
                format!("{shape:?} overflows"),
            )
        })
}

fn check_tensor(t: &Tensor<'_>) -> Result<()> {
    let field = || format!("tensors['{}']", t.name);
    if t.name.is_empty() {
        return Err(invalid("tensors[].name", "must not be empty"));
    }
    if t.name == RESERVED_NAME {
        // safetensors keeps its metadata under this key: a tensor of that
        // name encodes, but the file can never be decoded again.
        return Err(invalid(
            "tensors[].name",
            format!("'{RESERVED_NAME}' is reserved by safetensors for the file's metadata; use another name"),
        ));
    }
    let expected = element_count(t.name, &t.shape)?
        .checked_mul(t.dtype.size())
        .ok_or_else(|| invalid(&field(), "size overflows"))?;
    if t.data.len() != expected {
        return Err(invalid(
            &format!("{}.data", field()),
            format!(
                "{} bytes, but shape {:?} of {:?} needs {expected}",
                t.data.len(),
                t.shape,
                t.dtype
            ),
        ));
    }
    Ok(())
}

/// Collects every `{"$tensor": n}` / `{"$bytes": n}` reference of a value
/// tree while serde parses it: no tree is built (building one was most of
/// the cost of checking a small experience's values).
struct References<'r>(&'r mut Vec<String>);

impl<'de> DeserializeSeed<'de> for References<'_> {
    /// The string itself when the value is one (a possible reference name).
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for References<'_> {
    type Value = Option<String>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self::Value, A::Error> {
        while seq.next_element_seed(References(self.0))?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        // A reference is an object with exactly one entry: a marker key
        // whose value is a string.
        let (mut entries, mut marked) = (0, None);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            entries += 1;
            let value = map.next_value_seed(References(self.0))?;
            if key == "$tensor" || key == "$bytes" {
                marked = value;
            }
        }
        if let (1, Some(name)) = (entries, marked) {
            self.0.push(name);
        }
        Ok(None)
    }
}

fn check_values(values: &str, names: &HashSet<&str>) -> Result<()> {
    let mut refs = Vec::new();
    let mut parser = serde_json::Deserializer::from_str(values);
    References(&mut refs)
        .deserialize(&mut parser)
        .and_then(|_| parser.end())
        .map_err(|e| invalid("values", format!("not valid JSON: {e}")))?;
    match refs.iter().find(|r| !names.contains(r.as_str())) {
        Some(missing) => Err(invalid(
            "values",
            format!("refers to tensor '{missing}', which is not given"),
        )),
        None => Ok(()),
    }
}

/// A map of `entries` that iterates in key order. safetensors writes its
/// metadata in the map's iteration order, which for a std `HashMap` is
/// random per map: the same experience encoded twice gave different bytes.
/// Maps are built until one iterates in order (two tries on average for
/// two keys), so encoding is deterministic.
fn in_key_order(entries: &[(&str, &str)]) -> HashMap<String, String> {
    let build = || -> HashMap<String, String> {
        entries
            .iter()
            .map(|&(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let mut map = build();
    for _ in 0..64 {
        if map.keys().is_sorted() {
            break;
        }
        map = build();
    }
    map
}

/// Encodes tensors and an optional JSON value tree as one experience.
pub fn encode(tensors: &[Tensor<'_>], values: Option<&str>) -> Result<Vec<u8>> {
    let mut names = HashSet::new();
    for t in tensors {
        check_tensor(t)?;
        if !names.insert(t.name) {
            return Err(invalid("tensors[].name", format!("'{}' appears twice", t.name)));
        }
    }
    let mut meta = vec![(FORMAT_KEY, FORMAT)];
    if let Some(values) = values {
        check_values(values, &names)?;
        meta.push((VALUES_KEY, values));
    }
    safetensors::serialize(tensors.iter().map(|t| (t.name, t)), Some(in_key_order(&meta)))
        .map_err(|e| Error::Internal(format!("experience: encoding failed: {e}")))
}

/// Whether `bytes` is an experience written by [`encode`].
pub fn is_experience(bytes: &[u8]) -> bool {
    decode(bytes).is_ok()
}

/// Decodes an experience without copying tensor data: each tensor is
/// located by offset and length within `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Decoded> {
    let not_ours = |why: String| invalid("experience_data", format!("not a gmstore experience: {why}"));
    let (header_len, metadata) = SafeTensors::read_metadata(bytes).map_err(|e| not_ours(e.to_string()))?;
    let extra = metadata.metadata().clone().unwrap_or_default();
    match extra.get(FORMAT_KEY).map(String::as_str) {
        Some(FORMAT) => {}
        Some(other) => return Err(not_ours(format!("format '{other}' is not {FORMAT}"))),
        None => return Err(not_ours(format!("no '{FORMAT_KEY}' metadata"))),
    }
    let data_start = 8 + header_len;
    let mut tensors = metadata
        .tensors()
        .into_iter()
        .map(|(name, info)| {
            let dtype = DType::from_safetensors(info.dtype)
                .ok_or_else(|| not_ours(format!("tensor '{name}' has unsupported dtype {:?}", info.dtype)))?;
            let (start, end) = info.data_offsets;
            Ok(TensorInfo {
                name,
                dtype,
                shape: info.shape.clone(),
                offset: data_start + start,
                len: end - start,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    tensors.sort_by_key(|t| t.offset);
    Ok(Decoded {
        tensors,
        values: extra.get(VALUES_KEY).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn round_trips_tensors_and_values_with_aligned_data() {
        let obs = f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let flags = [1u8, 0, 1];
        let tensors = [
            Tensor {
                name: "observation",
                dtype: DType::F32,
                shape: vec![2, 3],
                data: &obs,
            },
            Tensor {
                name: "done",
                dtype: DType::Bool,
                shape: vec![3],
                data: &flags,
            },
        ];
        let values =
            r#"{"observation": {"$tensor": "observation"}, "done": {"$tensor": "done"}, "action": "left"}"#;
        let bytes = encode(&tensors, Some(values)).unwrap();
        let d = decode(&bytes).unwrap();
        assert_eq!(d.values.as_deref(), Some(values));
        let o = d.tensors.iter().find(|t| t.name == "observation").unwrap();
        assert_eq!((o.dtype, o.shape.clone()), (DType::F32, vec![2, 3]));
        assert_eq!(&bytes[o.offset..o.offset + o.len], &obs[..]);
        assert_eq!(o.offset % 8, 0, "numpy can view the data in place");
        assert!(is_experience(&bytes));
    }

    #[test]
    fn rejects_inconsistent_input_and_foreign_bytes() {
        let data = [0u8; 10];
        let bad = [Tensor {
            name: "x",
            dtype: DType::F32,
            shape: vec![3],
            data: &data,
        }];
        assert!(encode(&bad, None).unwrap_err().to_string().contains("needs 12"));
        let ok = [Tensor {
            name: "x",
            dtype: DType::U8,
            shape: vec![10],
            data: &data,
        }];
        assert!(encode(&ok, Some(r#"{"a": {"$tensor": "y"}}"#))
            .unwrap_err()
            .to_string()
            .contains("'y'"));
        assert!(encode(&ok, Some("{")).is_err());
        assert!(decode(b"hello").is_err());
        assert!(!is_experience(&[0u8; 64]));
        let plain = safetensors::serialize(ok.iter().map(|t| (t.name, t)), None).unwrap();
        assert!(decode(&plain).unwrap_err().to_string().contains("gmstore.format"));
    }
}
