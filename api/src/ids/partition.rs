//! Sorting more id hashes than should be held in memory at once: they are spread by their
//! top bits over temporary files, which are then sorted one at a time. Memory stays at one
//! part (a sixty-fourth of the hashes) plus the write buffers.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

const PARTS: usize = 64;
const SHIFT: u32 = 64 - PARTS.trailing_zeros();

pub struct Partitioned {
    // Removed with everything in it when dropped, also after an error.
    _folder: tempfile::TempDir,
    parts: Vec<BufWriter<File>>,
}

impl Partitioned {
    /// Temporary files in a new folder beside the run at `run` (so they are on the disk
    /// that will hold it), named as the run's staging.
    pub fn beside(run: &Path) -> std::io::Result<Self> {
        let folder = tempfile::Builder::new()
            .prefix(&format!("{}build", super::run::staging_prefix(run)))
            .tempdir_in(super::run::folder_of(run))?;
        let parts = (0..PARTS)
            .map(|part| {
                File::options()
                    .create_new(true)
                    .read(true)
                    .write(true)
                    .open(folder.path().join(format!("{part:02}")))
                    .map(|file| BufWriter::with_capacity(1 << 16, file))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Self {
            _folder: folder,
            parts,
        })
    }

    pub fn push(&mut self, hash: u64) -> std::io::Result<()> {
        self.parts[(hash >> SHIFT) as usize].write_all(&hash.to_le_bytes())
    }

    /// Sends every hash pushed, in increasing order (repeats included).
    pub fn drain_sorted(
        self,
        emit: &mut dyn FnMut(u64) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        for part in self.parts {
            let mut file = part.into_inner().map_err(|error| error.into_error())?;
            file.seek(SeekFrom::Start(0))?;
            let mut bytes = Vec::new();
            BufReader::new(file).read_to_end(&mut bytes)?;
            let mut hashes = super::run::words(&bytes);
            drop(bytes);
            hashes.sort_unstable();
            for hash in hashes {
                emit(hash)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_every_hash_in_order_across_parts() {
        let folder = tempfile::tempdir().expect("temp dir");
        let mut partitioned =
            Partitioned::beside(&folder.path().join("events.duckdb.coachboard-ids"))
                .expect("parts");
        // A spread over every part, with repeats, in no order.
        let mut pushed: Vec<u64> = (0..10_000_u64)
            .map(|n| n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .chain([u64::MAX, 0, 0, 42, 42])
            .collect();
        for &hash in &pushed {
            partitioned.push(hash).expect("push");
        }
        let mut sent = Vec::new();
        partitioned
            .drain_sorted(&mut |hash| {
                sent.push(hash);
                Ok(())
            })
            .expect("drain");
        pushed.sort_unstable();
        assert_eq!(sent, pushed);
        // The temporary folder is gone once drained.
        assert_eq!(std::fs::read_dir(folder.path()).expect("list").count(), 0);
    }
}
