//! The files a render is to write, held until every environment validated: packed
//! a batch at a time into chunks of about [`CHUNK`] bytes, each compressed (LZ4).
//!
//! A full render holds every file of the platform until the end of the run (nothing
//! is written before everything validated): 20 MB of YAML at 1,000 services × 3
//! environments, the largest part of its memory. The files of a batch are much
//! alike (the same kinds for services that differ in a few values), so a chunk
//! compresses about twelve times; the whole costs about 15 ms of CPU to compress
//! and 5 ms to uncompress there.

use crate::emit::Tree;
use crate::error::Result;

/// About this many bytes of paths and text per chunk: large enough for the files
/// of many services (which is what compresses), small enough to spread a batch
/// over the cores and to write a chunk at a time.
const CHUNK: usize = 256 * 1024;

/// One file to write: its path under `generated/`, its text, and whether it
/// replaces a file on disk (stale) rather than adding one (missing).
pub type File = (String, String, bool);

/// Files to write as `apply` takes them: path, text, whether it replaces a file.
pub type Part<'a> = [(&'a str, &'a [u8], bool)];

/// What [`Pending::each_part`] gives the files to, a part at a time.
pub type WritePart<'a> = dyn Fn(&Part<'_>) -> Result<()> + Sync + 'a;

/// Files to write, compressed; see the module's documentation.
#[derive(Debug, Default)]
pub struct Pending {
    chunks: Vec<Chunk>,
}

/// Some files' paths and texts, one after the other, compressed.
#[derive(Debug)]
struct Chunk {
    packed: Box<[u8]>,
    /// Where each file's path and text end in the uncompressed bytes, and whether
    /// it replaces a file.
    files: Box<[(u32, u32, bool)]>,
}

impl Pending {
    /// Adds a batch of files (compressed on all cores).
    pub fn add(&mut self, files: Vec<File>) {
        use rayon::prelude::*;
        let mut parts = Vec::new();
        let (mut start, mut size) = (0, 0);
        for (i, (rel, text, _)) in files.iter().enumerate() {
            size += rel.len() + text.len();
            if size >= CHUNK {
                parts.push(&files[start..=i]);
                (start, size) = (i + 1, 0);
            }
        }
        if start < files.len() {
            parts.push(&files[start..]);
        }
        let chunks: Vec<Chunk> = parts.par_iter().map(|part| Chunk::pack(part)).collect();
        self.chunks.extend(chunks);
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Calls `write` with the files of each chunk (path, text, replaces), chunks
    /// uncompressed one at a time per core; stops at the first error.
    pub fn each_part(&self, write: &WritePart<'_>) -> Result<()> {
        use rayon::prelude::*;
        self.chunks.par_iter().try_for_each(|chunk| {
            let bytes = chunk.unpack();
            write(&chunk.files(&bytes))
        })
    }

    /// The files, uncompressed, as a tree (all of them in memory at once).
    pub fn into_tree(self) -> Tree {
        let mut tree = Tree::default();
        for chunk in &self.chunks {
            let bytes = chunk.unpack();
            for (rel, text, _) in chunk.files(&bytes) {
                let text = std::str::from_utf8(text).expect("a file's text was a string");
                tree.insert_new(rel.to_string(), text.to_string());
            }
        }
        tree
    }
}

impl Chunk {
    fn pack(files: &[File]) -> Chunk {
        let len = files
            .iter()
            .map(|(rel, text, _)| rel.len() + text.len())
            .sum();
        let mut bytes = Vec::with_capacity(len);
        let index = files
            .iter()
            .map(|(rel, text, replace)| {
                bytes.extend_from_slice(rel.as_bytes());
                let path_end = offset(bytes.len());
                bytes.extend_from_slice(text.as_bytes());
                (path_end, offset(bytes.len()), *replace)
            })
            .collect();
        Chunk {
            // At its exact size (the compressor reserves room for the worst case).
            packed: lz4_flex::block::compress(&bytes).into_boxed_slice(),
            files: index,
        }
    }

    fn unpack(&self) -> Vec<u8> {
        let len = self.files.last().map_or(0, |&(_, end, _)| end as usize);
        lz4_flex::block::decompress(&self.packed, len).expect("a chunk this module compressed")
    }

    /// The files of the chunk in its uncompressed `bytes`.
    fn files<'a>(&self, bytes: &'a [u8]) -> Vec<(&'a str, &'a [u8], bool)> {
        let mut start = 0;
        self.files
            .iter()
            .map(|&(path_end, end, replace)| {
                let (path_end, end) = (path_end as usize, end as usize);
                let rel =
                    std::str::from_utf8(&bytes[start..path_end]).expect("a path was a string");
                start = end;
                (rel, &bytes[path_end..end], replace)
            })
            .collect()
    }
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).expect("a chunk is far under 4 GiB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_come_back_as_they_went_in() {
        let mut pending = Pending::default();
        assert!(pending.is_empty());
        // Enough files for several chunks, some empty, and a batch of none.
        let files: Vec<File> = (0..3000)
            .map(|i| {
                let text = if i % 100 == 0 {
                    String::new()
                } else {
                    format!("kind: ConfigMap\nmetadata:\n  name: svc-{i}\n").repeat(5)
                };
                (format!("dev/svc-{i:04}/configmap.yaml"), text, i % 3 == 0)
            })
            .collect();
        pending.add(files[..1000].to_vec());
        pending.add(Vec::new());
        pending.add(files[1000..].to_vec());
        assert!(pending.chunks.len() > 2);
        let seen = std::sync::Mutex::new(Vec::new());
        pending
            .each_part(&|part| {
                let mut seen = seen.lock().unwrap();
                for &(rel, text, replace) in part {
                    let text = String::from_utf8(text.to_vec()).unwrap();
                    seen.push((rel.to_string(), text, replace));
                }
                Ok(())
            })
            .unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        let mut expected = files.clone();
        expected.sort();
        assert_eq!(seen, expected);
        let tree = pending.into_tree();
        assert_eq!(tree.files.len(), files.len());
        assert!(files.iter().all(|(rel, text, _)| &tree.files[rel] == text));
    }
}
