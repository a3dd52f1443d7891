//! Embeds the built dashboard (`../dist`, or `$COACHBOARD_DIST`) in the binary when it
//! exists at build time, so one file serves everything. `--static-dir` still overrides it.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let dist = env::var_os("COACHBOARD_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../dist")
        });
    println!("cargo:rerun-if-env-changed=COACHBOARD_DIST");
    // Watch the folder if it exists, else its parent (whose listing changes when it appears).
    let watched = if dist.exists() {
        dist.clone()
    } else {
        dist.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    println!("cargo:rerun-if-changed={}", watched.display());
    let mut files = Vec::new();
    collect(&dist, &dist, &mut files);
    files.sort();
    let mut table = String::from(
        "/// The dashboard files built into this binary: (path, contents).\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (relative, absolute) in &files {
        println!("cargo:rerun-if-changed={}", absolute.display());
        let _ = writeln!(
            table,
            "    ({relative:?}, include_bytes!({:?})),",
            absolute.display().to_string()
        );
    }
    table.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_default()).join("embedded_dashboard.rs");
    if let Err(error) = fs::write(&out, table) {
        panic!("cannot write {}: {error}", out.display());
    }
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let (Ok(relative), Ok(absolute)) = (path.strip_prefix(root), path.canonicalize())
        {
            files.push((format!("/{}", relative.display()), absolute));
        }
    }
}
