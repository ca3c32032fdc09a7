// Gives the shared library a SONAME so programs linked against it keep
// working across compatible upgrades (libgmstore.so.0 = ABI major 0).
fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libgmstore.so.0");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
