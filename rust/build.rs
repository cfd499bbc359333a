// Links libpmmlrt_c, the C ABI of pmmlrt. The library is found in $PMMLRT_C_LIB_DIR, else in the CMake build
// folder of this repository (../build/capi). Executables get an rpath to that folder, so tests and examples
// run without LD_LIBRARY_PATH.
use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=PMMLRT_C_LIB_DIR");
    let dir = match env::var_os("PMMLRT_C_LIB_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../build/capi"),
    };
    let dir = dir.canonicalize().unwrap_or(dir);
    if !dir.join("libpmmlrt_c.so").exists() && !dir.join("libpmmlrt_c.dylib").exists() {
        println!(
            "cargo:warning=libpmmlrt_c not found in {} (build it with ./scripts/build, or set PMMLRT_C_LIB_DIR)",
            dir.display()
        );
    }
    println!("cargo:rerun-if-changed={}", dir.join("libpmmlrt_c.so").display());
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=dylib=pmmlrt_c");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
}
