//! Arbitrary bytes into the experience decoder, directly and through the
//! C ABI: it must return an error or offsets inside the buffer, never crash.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = gmstore::experience::decode(data) {
        for t in &decoded.tensors {
            assert!(t.offset + t.len <= data.len());
        }
    }
    let mut out = std::ptr::null_mut();
    let status = unsafe { gmstore::ffi::experience::gm_experience_decode(data.as_ptr(), data.len(), &mut out) };
    if status == 0 {
        unsafe { gmstore::ffi::experience::gm_experience_free(out) };
    } else {
        assert!(out.is_null());
    }
});
