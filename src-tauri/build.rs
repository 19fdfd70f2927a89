fn main() {
    // The config sits at the top of the repository (the product's layout); paths inside it
    // (ui/dist, icons/) resolve from there.
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=capabilities");
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .expect("tauri build script failed");
}
