//! Input checks shared by every domain module. Each returns an
//! `InvalidArgument` whose message starts with the field name.

use crate::error::{invalid, Result};

/// Largest embedding accepted: 65,536 float32 components (256 KiB).
pub const MAX_EMBEDDING_DIM: usize = 65_536;
/// Largest `limit` accepted by list queries.
pub const MAX_LIMIT: i64 = 10_000_000;
/// Largest blob or text accepted (SQLite's default SQLITE_MAX_LENGTH is 1e9).
pub const MAX_BLOB_LEN: usize = 1_000_000_000;

/// A finite float.
pub fn finite(field: &str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(invalid(field, format!("must be a finite number, got {value}")))
    }
}

/// An optional finite float.
pub fn finite_opt(field: &str, value: Option<f64>) -> Result<Option<f64>> {
    value.map(|v| finite(field, v)).transpose()
}

/// A finite float in `[0, 1]`.
pub fn unit_interval(field: &str, value: f64) -> Result<f64> {
    finite(field, value)?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(field, format!("{value} is outside [0, 1]")))
    }
}

/// A non-empty string.
pub fn non_empty<'a>(field: &str, value: &'a str) -> Result<&'a str> {
    if value.is_empty() {
        Err(invalid(field, "must not be empty"))
    } else {
        Ok(value)
    }
}

/// A list limit: 0 ..= MAX_LIMIT.
pub fn limit(value: i64) -> Result<i64> {
    if value < 0 {
        return Err(invalid("limit", format!("must not be negative, got {value}")));
    }
    if value > MAX_LIMIT {
        return Err(invalid(
            "limit",
            format!("{value} exceeds the maximum of {MAX_LIMIT}"),
        ));
    }
    Ok(value)
}

/// A row id: positive, as SQLite's AUTOINCREMENT assigns them.
pub fn id(field: &str, value: i64) -> Result<i64> {
    if value <= 0 {
        Err(invalid(field, format!("must be a positive id, got {value}")))
    } else {
        Ok(value)
    }
}

/// A byte blob within SQLite's size limit.
pub fn blob<'a>(field: &str, value: &'a [u8]) -> Result<&'a [u8]> {
    if value.len() > MAX_BLOB_LEN {
        Err(invalid(
            field,
            format!("{} bytes exceeds the maximum of {MAX_BLOB_LEN}", value.len()),
        ))
    } else {
        Ok(value)
    }
}

/// An embedding dimension: 1 ..= MAX_EMBEDDING_DIM; `field` names it.
pub fn embedding_dim(field: &str, dim: usize) -> Result<usize> {
    if dim == 0 {
        return Err(invalid(field, "must not be empty"));
    }
    if dim > MAX_EMBEDDING_DIM {
        return Err(invalid(
            field,
            format!("dimension {dim} exceeds the maximum of {MAX_EMBEDDING_DIM}"),
        ));
    }
    Ok(dim)
}

/// A non-empty embedding of finite components within the size bound.
pub fn embedding(values: &[f32]) -> Result<&[f32]> {
    embedding_dim("embedding", values.len())?;
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(invalid(
            "embedding",
            format!("component {i} is {v}, not a finite number"),
        ));
    }
    Ok(values)
}

/// Optional metadata that must be a JSON object; absent means `{}`.
pub fn json_object<'a>(field: &str, text: Option<&'a str>) -> Result<Option<&'a str>> {
    let Some(text) = text else { return Ok(None) };
    // Valid JSON that opens with `{` is an object: checked without
    // building the tree, which cost most of a small write's validation.
    // Anything else is parsed again below for the message.
    if text.trim_start().starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        return Ok(Some(text));
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => Ok(Some(text)),
        Ok(other) => Err(invalid(
            field,
            format!("not a JSON object (got {})", json_kind(&other)),
        )),
        Err(e) => Err(invalid(field, format!("not valid JSON: {e}"))),
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Encodes an embedding as little-endian float32 bytes, the layout that
/// `numpy.frombuffer(blob, '<f4')` and sqlite-vec read directly.
pub fn embedding_to_blob(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Decodes a little-endian float32 blob; a trailing partial value is an error.
pub fn blob_to_embedding(blob: &[u8]) -> Result<Vec<f32>> {
    if !blob.len().is_multiple_of(4) {
        return Err(crate::Error::Corrupt(format!(
            "embedding: blob of {} bytes is not a whole number of float32 values",
            blob.len()
        )));
    }
    Ok(blob
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}
