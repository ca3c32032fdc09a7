//! Arbitrary bytes as the inputs of the C ABI calls that parse them:
//! strings (any bytes up to a NUL, so invalid UTF-8 too), metadata text,
//! float vectors (NaN and infinities included), scores and raw SQL
//! parameters. Every call must return a status, never crash, and leave the
//! store sound.
#![no_main]
use std::ffi::CString;
use std::sync::OnceLock;

use gmstore::ffi::concepts::gm_store_concept;
use gmstore::ffi::episodes::{gm_episode_input, gm_store_episode};
use gmstore::ffi::handle::{gm_open, gm_store};
use gmstore::ffi::maintenance::{gm_execute, gm_integrity_check, gm_value};
use libfuzzer_sys::fuzz_target;

struct Handle(*mut gm_store);
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

fn store() -> *mut gm_store {
    static STORE: OnceLock<Handle> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let mut h = std::ptr::null_mut();
            assert_eq!(unsafe { gm_open(c":memory:".as_ptr(), std::ptr::null(), &mut h) }, 0);
            Handle(h)
        })
        .0
}

fn text(bytes: &[u8]) -> CString {
    CString::new(bytes.split(|b| *b == 0).next().unwrap_or_default()).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let s = store();
    let parts: Vec<&[u8]> = data.splitn(4, |b| *b == 0xFF).collect();
    let name = text(parts.first().copied().unwrap_or_default());
    let meta = text(parts.get(1).copied().unwrap_or_default());
    let floats: Vec<f32> = parts
        .get(2)
        .copied()
        .unwrap_or_default()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let score = floats.first().copied().unwrap_or(0.0) as f64;
    let mut id = 0i64;
    unsafe {
        let input = gm_episode_input {
            experience_data: data.as_ptr(),
            experience_len: data.len(),
            performance_score: score,
            timestamp: floats.get(1).copied().unwrap_or(0.0) as f64,
            context_hash: name.as_ptr(),
            metadata: meta.as_ptr(),
            has_timestamp: data.first().copied().unwrap_or(0) & 1,
            reserved: [0; 7],
        };
        gm_store_episode(s, &input, &mut id);
        gm_store_concept(s, name.as_ptr(), floats.as_ptr(), floats.len(), meta.as_ptr(), std::ptr::null(), &mut id);
        let sql = text(parts.get(3).copied().unwrap_or_default());
        let params = [gm_value { kind: data.len() as u32 % 6, reserved: 0, int_value: id, real_value: score, data: data.as_ptr(), len: data.len() }];
        gm_execute(s, sql.as_ptr(), params.as_ptr(), 1, std::ptr::null_mut());
        let mut problems = -1i64;
        assert_eq!(gm_integrity_check(s, &mut problems, std::ptr::null_mut()), 0);
        assert_eq!(problems, 0);
    }
});
