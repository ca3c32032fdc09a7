//! Arbitrary text into the JSON Lines importer: an error or a complete
//! import, never a crash and never a partial import.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let store = gmstore::Store::open_in_memory().unwrap();
    if store.import(data, |_, _| {}).is_err() {
        assert_eq!(store.count_episodes().unwrap(), 0);
        assert_eq!(store.count_concepts().unwrap(), 0);
    }
});
