//! The shared experience format (safetensors) across the C ABI, so a C
//! simulator and a Python trainer read each other's episodes exactly.

use std::ffi::{c_char, CString};

use super::boundary::{boundary, opt_text, out, quiet_boundary, slice, text};
use super::results::Handed;
use crate::error::{invalid, Result};
use crate::experience::{self, DType, Tensor};
use crate::status::*;
use crate::validate::MAX_BLOB_LEN;

/// Element types of `gm_tensor.dtype`.
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gm_dtype {
    /// `gm_tensor.dtype`: 1-byte booleans.
    GM_DTYPE_BOOL = 1,
    /// `gm_tensor.dtype`: uint8.
    GM_DTYPE_U8 = 2,
    /// `gm_tensor.dtype`: int8.
    GM_DTYPE_I8 = 3,
    /// `gm_tensor.dtype`: uint16.
    GM_DTYPE_U16 = 4,
    /// `gm_tensor.dtype`: int16.
    GM_DTYPE_I16 = 5,
    /// `gm_tensor.dtype`: IEEE float16.
    GM_DTYPE_F16 = 6,
    /// `gm_tensor.dtype`: bfloat16.
    GM_DTYPE_BF16 = 7,
    /// `gm_tensor.dtype`: uint32.
    GM_DTYPE_U32 = 8,
    /// `gm_tensor.dtype`: int32.
    GM_DTYPE_I32 = 9,
    /// `gm_tensor.dtype`: float32.
    GM_DTYPE_F32 = 10,
    /// `gm_tensor.dtype`: uint64.
    GM_DTYPE_U64 = 11,
    /// `gm_tensor.dtype`: int64.
    GM_DTYPE_I64 = 12,
    /// `gm_tensor.dtype`: float64.
    GM_DTYPE_F64 = 13,
}

/// [`gm_dtype::GM_DTYPE_BOOL`] as the number the C ABI passes.
pub const GM_DTYPE_BOOL: u32 = gm_dtype::GM_DTYPE_BOOL as u32;
/// [`gm_dtype::GM_DTYPE_U8`] as the number the C ABI passes.
pub const GM_DTYPE_U8: u32 = gm_dtype::GM_DTYPE_U8 as u32;
/// [`gm_dtype::GM_DTYPE_I8`] as the number the C ABI passes.
pub const GM_DTYPE_I8: u32 = gm_dtype::GM_DTYPE_I8 as u32;
/// [`gm_dtype::GM_DTYPE_U16`] as the number the C ABI passes.
pub const GM_DTYPE_U16: u32 = gm_dtype::GM_DTYPE_U16 as u32;
/// [`gm_dtype::GM_DTYPE_I16`] as the number the C ABI passes.
pub const GM_DTYPE_I16: u32 = gm_dtype::GM_DTYPE_I16 as u32;
/// [`gm_dtype::GM_DTYPE_F16`] as the number the C ABI passes.
pub const GM_DTYPE_F16: u32 = gm_dtype::GM_DTYPE_F16 as u32;
/// [`gm_dtype::GM_DTYPE_BF16`] as the number the C ABI passes.
pub const GM_DTYPE_BF16: u32 = gm_dtype::GM_DTYPE_BF16 as u32;
/// [`gm_dtype::GM_DTYPE_U32`] as the number the C ABI passes.
pub const GM_DTYPE_U32: u32 = gm_dtype::GM_DTYPE_U32 as u32;
/// [`gm_dtype::GM_DTYPE_I32`] as the number the C ABI passes.
pub const GM_DTYPE_I32: u32 = gm_dtype::GM_DTYPE_I32 as u32;
/// [`gm_dtype::GM_DTYPE_F32`] as the number the C ABI passes.
pub const GM_DTYPE_F32: u32 = gm_dtype::GM_DTYPE_F32 as u32;
/// [`gm_dtype::GM_DTYPE_U64`] as the number the C ABI passes.
pub const GM_DTYPE_U64: u32 = gm_dtype::GM_DTYPE_U64 as u32;
/// [`gm_dtype::GM_DTYPE_I64`] as the number the C ABI passes.
pub const GM_DTYPE_I64: u32 = gm_dtype::GM_DTYPE_I64 as u32;
/// [`gm_dtype::GM_DTYPE_F64`] as the number the C ABI passes.
pub const GM_DTYPE_F64: u32 = gm_dtype::GM_DTYPE_F64 as u32;
/// Most dimensions a tensor may have.
pub const GM_MAX_TENSOR_DIMS: u32 = 32;
/// Most tensors one experience may hold.
pub const GM_MAX_TENSORS: usize = 1_000_000;

/// A tensor to encode. Plain data owned by the caller, read during the call.
/// `data` holds `prod(shape) * dtype size` bytes, little-endian, row-major.
#[repr(C)]
pub struct gm_tensor {
    /// NUL-terminated UTF-8, unique within the experience, non-empty.
    pub name: *const c_char,
    /// One of `GM_DTYPE_*`.
    pub dtype: u32,
    /// Number of dimensions, 0 (a scalar) ..= `GM_MAX_TENSOR_DIMS`.
    pub ndim: u32,
    /// `ndim` extents; may be NULL when `ndim` is 0.
    pub shape: *const u64,
    /// The bytes; NULL only when the length is 0.
    pub data: *const u8,
    /// Byte length of `data`.
    pub data_len: usize,
}

/// A byte buffer owned by the caller, freed with `gm_buffer_free`.
#[repr(C)]
pub struct gm_buffer {
    /// The bytes; NULL only when the length is 0.
    pub data: *const u8,
    /// Byte length of `data`.
    pub len: usize,
}

/// Where one decoded tensor lies in the buffer given to
/// `gm_experience_decode`. Pointers live as long as the `gm_experience`.
#[repr(C)]
pub struct gm_tensor_info {
    /// NUL-terminated UTF-8.
    pub name: *const c_char,
    /// Byte length of `name`, without the NUL.
    pub name_len: usize,
    /// One of `GM_DTYPE_*`.
    pub dtype: u32,
    /// Number of dimensions (extents at `shape`).
    pub ndim: u32,
    /// `ndim` extents.
    pub shape: *const u64,
    /// Byte offset of the data from the start of the decoded buffer
    /// (8-byte aligned relative to it).
    pub offset: u64,
    /// Byte length of the data.
    pub len: u64,
}

/// A decoded experience, owned by the caller, freed with
/// `gm_experience_free`. It holds offsets, not copies: tensor data stays in
/// the caller's buffer at `buffer + tensors[i].offset`.
#[repr(C)]
pub struct gm_experience {
    /// In data order.
    pub tensors: *const gm_tensor_info,
    /// Number of tensors at `tensors`.
    pub count: usize,
    /// The JSON value tree (NUL-terminated), or NULL if the writer gave none.
    pub values_json: *const c_char,
    /// Byte length of `values_json`, without the NUL; 0 when NULL.
    pub values_json_len: usize,
}

/// The block behind a `gm_buffer`: the bytes it points to.
#[repr(C)]
pub(crate) struct OwnedBuffer {
    view: gm_buffer,
    bytes: Vec<u8>,
}

impl Handed for OwnedBuffer {
    type View = gm_buffer;
}

/// The block behind a `gm_experience`: the tensor infos, names, shapes and
/// value tree it points to.
#[repr(C)]
pub(crate) struct OwnedExperience {
    view: gm_experience,
    infos: Vec<gm_tensor_info>,
    names: Vec<CString>,
    shapes: Vec<Vec<u64>>,
    values: Option<CString>,
}

impl Handed for OwnedExperience {
    type View = gm_experience;
}

/// Checks one C tensor. Messages name the field (`dtype: ...`), which the
/// caller qualifies with the tensor's index only on failure: formatting
/// three names per tensor on success cost more than the checks.
unsafe fn to_tensor(t: &gm_tensor) -> Result<Tensor<'_>> {
    let dtype =
        DType::from_code(t.dtype).ok_or_else(|| invalid("dtype", format!("unknown dtype {}", t.dtype)))?;
    if t.ndim > GM_MAX_TENSOR_DIMS {
        return Err(invalid(
            "ndim",
            format!("{} exceeds {GM_MAX_TENSOR_DIMS}", t.ndim),
        ));
    }
    let shape = slice(t.shape, t.ndim as usize, "shape", GM_MAX_TENSOR_DIMS as usize)?
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| invalid("shape", format!("extent {d} is too large"))))
        .collect::<Result<Vec<_>>>()?;
    Ok(Tensor {
        name: text(t.name, "name")?,
        dtype,
        shape,
        data: slice(t.data, t.data_len, "data", MAX_BLOB_LEN)?,
    })
}

/// The experience bytes of `count` C tensors and an optional value tree.
///
/// # Safety
/// The pointers must be valid as `gm_experience_encode` documents.
pub(crate) unsafe fn encode(
    tensors: *const gm_tensor,
    count: usize,
    values_json: *const c_char,
) -> Result<Vec<u8>> {
    let tensors = slice(tensors, count, "tensors", GM_MAX_TENSORS)?
        .iter()
        .enumerate()
        .map(|(i, t)| to_tensor(t).map_err(|e| e.within(&format!("tensors[{i}]"))))
        .collect::<Result<Vec<_>>>()?;
    experience::encode(&tensors, opt_text(values_json, "values_json")?)
}

/// Encodes `count` tensors and an optional JSON value tree (`values_json`,
/// may be NULL; `{"$tensor": "name"}` in it stands for a tensor) as one
/// experience, written to `*out_buffer` (free with `gm_buffer_free`). Store
/// the bytes as an episode's `experience_data`.
/// Errors: `GM_ERR_INVALID_ARGUMENT` for an unknown dtype, a data length
/// that does not match the shape, duplicate or empty names, values that are
/// not JSON or refer to a missing tensor. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_experience_encode(
    tensors: *const gm_tensor,
    count: usize,
    values_json: *const c_char,
    out_buffer: *mut *mut gm_buffer,
) -> gm_status {
    boundary("gm_experience_encode", || {
        let out_buffer = out(out_buffer, "out_buffer", std::ptr::null_mut())?;
        let bytes = encode(tensors, count, values_json)?;
        let owned = OwnedBuffer {
            view: gm_buffer {
                // The Vec's heap block does not move with the Vec.
                data: bytes.as_ptr(),
                len: bytes.len(),
            },
            bytes,
        };
        out_buffer.set(owned.hand_over());
        Ok(())
    })
}

/// Frees a buffer from `gm_experience_encode`. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_buffer_free(buffer: *mut gm_buffer) {
    quiet_boundary((), || OwnedBuffer::free(buffer))
}

/// Decodes the experience in `data[0..len]` (for example an episode's
/// `experience_data`) and writes its layout to `*out_experience` (free with
/// `gm_experience_free`). Nothing is copied: each tensor's bytes are at
/// `data + offset` and stay valid as long as the caller keeps `data`.
/// `GM_ERR_INVALID_ARGUMENT` when the bytes are not a gmstore experience
/// (for example raw bytes stored by an older writer). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_experience_decode(
    data: *const u8,
    len: usize,
    out_experience: *mut *mut gm_experience,
) -> gm_status {
    boundary("gm_experience_decode", || {
        let out_experience = out(out_experience, "out_experience", std::ptr::null_mut())?;
        let decoded = experience::decode(slice(data, len, "data", usize::MAX)?)?;
        let names = decoded
            .tensors
            .iter()
            .map(|t| CString::new(t.name.as_str()).map_err(|_| invalid("data", "a tensor name contains NUL")))
            .collect::<Result<Vec<_>>>()?;
        let shapes: Vec<Vec<u64>> = decoded
            .tensors
            .iter()
            .map(|t| t.shape.iter().map(|&d| d as u64).collect())
            .collect();
        let infos = decoded
            .tensors
            .iter()
            .zip(names.iter().zip(&shapes))
            .map(|(t, (name, shape))| gm_tensor_info {
                name: name.as_ptr(),
                name_len: t.name.len(),
                dtype: t.dtype as u32,
                ndim: shape.len() as u32,
                shape: shape.as_ptr(),
                offset: t.offset as u64,
                len: t.len as u64,
            })
            .collect::<Vec<_>>();
        let values = decoded
            .values
            .as_deref()
            .map(|v| CString::new(v).map_err(|_| invalid("data", "the value tree contains NUL")))
            .transpose()?;
        let view = gm_experience {
            tensors: infos.as_ptr(),
            count: infos.len(),
            values_json: values.as_ref().map_or(std::ptr::null(), |v| v.as_ptr()),
            values_json_len: values.as_ref().map_or(0, |v| v.as_bytes().len()),
        };
        let owned = OwnedExperience {
            view,
            infos,
            names,
            shapes,
            values,
        };
        out_experience.set(owned.hand_over());
        Ok(())
    })
}

/// Frees a decoded experience. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_experience_free(experience: *mut gm_experience) {
    quiet_boundary((), || OwnedExperience::free(experience))
}
