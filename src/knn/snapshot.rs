//! The k-NN matrix persisted to a file, so that the first search after
//! opening reads one file instead of every concept through the engine,
//! then applies what the change log says changed since.
//!
//! A snapshot is a cache, never data: any doubt means it is not used and
//! the matrix is built from the store as before. It names the store it was
//! taken from (its origin: the SQLite file's device and inode, or the
//! PostgreSQL server's system identifier, database and store) and the
//! content it reflects (the change-log mark, which carries the store's
//! incarnation). A snapshot of another store, of a copy of the file, of a
//! file since restored, or one torn or damaged (a CRC-32 over the whole
//! file) is refused; one merely older than the store is brought up to date
//! from the change log, or rebuilt if the log no longer reaches back.
//!
//! Layout, little-endian: magic, format version, dim, rows, origin, mark
//! (seq, incarnation, engine snapshot), then ids (i64), squared norms (f32)
//! and the rows (f32, row-major), then the CRC-32 of all that and an end
//! magic.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::matrix::Matrix;
use crate::error::{Error, Result};
use crate::storage::ContentMark;

const MAGIC: &[u8; 8] = b"GMKNNSNP";
const END: &[u8; 8] = b"GMKNNEND";
const FORMAT: u32 = 1;
/// Strings in the header are short (an origin, an incarnation, a
/// PostgreSQL snapshot); anything longer is not a snapshot of ours.
const MAX_TEXT: u32 = 1 << 20;

/// Writes `matrix` to `path` as a snapshot of `origin`, through a
/// temporary file renamed into place: a reader sees the old snapshot or
/// the new one, never half of one.
pub(crate) fn save(path: &Path, origin: &str, matrix: &Matrix, file_mode: u32) -> Result<()> {
    // Unique per process and call: two handles saving to one path each
    // write their own file, and the last rename wins whole.
    static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = crate::files::with_suffix(path, &format!(".tmp-{}-{n}", std::process::id()));
    let written = write_file(&temporary, origin, matrix, file_mode);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(e.context(&format!("k-NN snapshot '{}'", path.display())));
    }
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::Io(format!("k-NN snapshot '{}': {e}", path.display()))
    })
}

fn write_file(path: &Path, origin: &str, m: &Matrix, file_mode: u32) -> Result<()> {
    let _ = std::fs::remove_file(path);
    crate::files::create_new(path, file_mode)?;
    let mut out = Checksummed::new(BufWriter::with_capacity(1 << 20, File::create(path)?));
    out.put(MAGIC)?;
    out.put(&FORMAT.to_le_bytes())?;
    out.put(
        &u32::try_from(m.dim)
            .map_err(|_| Error::Internal("dimension over 2^32".into()))?
            .to_le_bytes(),
    )?;
    out.put(&(m.ids.len() as u64).to_le_bytes())?;
    out.put_text(Some(origin))?;
    out.put(&m.mark.seq.to_le_bytes())?;
    out.put_text(m.mark.incarnation.as_deref())?;
    out.put_text(m.mark.snapshot.as_deref())?;
    if cfg!(target_endian = "little") {
        out.put(bytes_of(&m.ids))?;
    } else {
        for id in &m.ids {
            out.put(&id.to_le_bytes())?;
        }
    }
    out.floats(&m.sq_norms)?;
    out.floats(&m.data)?;
    let crc = out.crc.clone().finalize();
    out.put(&crc.to_le_bytes())?;
    out.put(END)?;
    // No fsync: after a power loss a torn or empty file fails its CRC and
    // the matrix is built from the store, which is the data.
    out.inner.flush()?;
    Ok(())
}

/// The snapshot at `path` as a matrix, if it is one of `origin` with rows
/// of `dim` floats and intact; None otherwise (missing, foreign, stale
/// format, damaged). Its mark says what content it reflects: the caller
/// brings it up to date from the change log.
pub(crate) fn load(path: &Path, origin: &str, dim: usize) -> Option<Matrix> {
    if cfg!(target_endian = "big") {
        return None; // written as little-endian memory
    }
    let file = File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    let mut header = Checksummed::new(BufReader::with_capacity(4096, &file));
    let (rows, mark) = read_header(&mut header, origin, dim)?;
    let header_len = header.inner.stream_position().ok()?;
    // The size must be exactly what the header says before anything that
    // large is allocated: a damaged count must not ask for terabytes.
    let row_bytes = 8 + 4 + 4 * dim as u64;
    if rows.checked_mul(row_bytes)?.checked_add(header_len + 12)? != size {
        return None;
    }
    let rows = usize::try_from(rows).ok()?;
    let mut ids = vec![0i64; rows];
    let mut sq_norms = vec![0f32; rows];
    let mut data = super::cache::matrix_buffer(rows * dim);
    let mut crc = header.crc;
    let mut at = header_len;
    for part in [bytes_of_mut(&mut ids), bytes_of_mut(&mut sq_norms)] {
        crc.combine(&read_at(&file, part, at)?);
        at += part.len() as u64;
    }
    crc.combine(&read_in_parallel(&file, bytes_of_mut(&mut data), at)?);
    at += (data.len() * 4) as u64;
    let mut trailer = [0u8; 12];
    file.read_exact_at(&mut trailer, at).ok()?;
    let intact = trailer[..4] == crc.finalize().to_le_bytes() && &trailer[4..] == END;
    intact.then(|| Matrix {
        dim,
        ids,
        row_of: Default::default(),
        data,
        sq_norms,
        mark,
        data_version: None,
    })
}

fn read_header<R: Read>(input: &mut Checksummed<R>, origin: &str, dim: usize) -> Option<(u64, ContentMark)> {
    if &input.array::<8>()? != MAGIC || u32::from_le_bytes(input.array()?) != FORMAT {
        return None;
    }
    let file_dim = u32::from_le_bytes(input.array()?) as usize;
    let rows = u64::from_le_bytes(input.array()?);
    if file_dim != dim || input.take_text()?.as_deref() != Some(origin) {
        return None;
    }
    let mark = ContentMark {
        seq: i64::from_le_bytes(input.array()?),
        incarnation: input.take_text()?,
        snapshot: input.take_text()?,
    };
    Some((rows, mark))
}

/// Reads `buf.len()` bytes at `offset`; their CRC-32 alone.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> Option<crc32fast::Hasher> {
    file.read_exact_at(buf, offset).ok()?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(buf);
    Some(crc)
}

/// As [`read_at`], the two halves on two threads: copying 100 MB out of
/// the page cache and checking it is memory-bound work one core does not
/// saturate.
fn read_in_parallel(file: &File, buf: &mut [u8], offset: u64) -> Option<crc32fast::Hasher> {
    const PARALLEL_FROM: usize = 8 << 20;
    if buf.len() < PARALLEL_FROM {
        return read_at(file, buf, offset);
    }
    let middle = buf.len() / 2;
    let (lower, upper) = buf.split_at_mut(middle);
    let (mut crc, upper_crc) = std::thread::scope(|scope| {
        let upper = scope.spawn(|| read_at(file, upper, offset + middle as u64));
        let lower = read_at(file, lower, offset);
        (lower, upper.join().ok().flatten())
    });
    crc.as_mut()?.combine(&upper_crc?);
    crc
}

/// The memory of a slice of plain numbers, for writing it as it is.
fn bytes_of<T: Copy>(values: &[T]) -> &[u8] {
    // SAFETY: only called with i64 and f32, which have no padding; the
    // byte slice covers exactly the values' memory for as long as they are
    // borrowed.
    unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values)) }
}

/// The bytes of a slice of plain numbers, for reading them in place.
fn bytes_of_mut<T: Copy>(values: &mut [T]) -> &mut [u8] {
    // SAFETY: only called with i64 and f32, for which every bit pattern is
    // a valid value; the byte slice covers exactly the values' memory and
    // borrows it mutably for as long as it lives.
    unsafe { std::slice::from_raw_parts_mut(values.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(values)) }
}

/// A reader or writer that keeps a CRC-32 of what passes through.
struct Checksummed<T> {
    inner: T,
    crc: crc32fast::Hasher,
}

impl<T> Checksummed<T> {
    fn new(inner: T) -> Self {
        Checksummed {
            inner,
            crc: crc32fast::Hasher::new(),
        }
    }
}

impl<W: Write> Checksummed<W> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.crc.update(bytes);
        Ok(self.inner.write_all(bytes)?)
    }

    fn put_text(&mut self, text: Option<&str>) -> Result<()> {
        match text {
            None => self.put(&u32::MAX.to_le_bytes()),
            Some(t) => {
                self.put(&(t.len() as u32).to_le_bytes())?;
                self.put(t.as_bytes())
            }
        }
    }

    fn floats(&mut self, values: &[f32]) -> Result<()> {
        if cfg!(target_endian = "little") {
            return self.put(bytes_of(values));
        }
        for chunk in values.chunks(1 << 16) {
            let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
            self.put(&bytes)?;
        }
        Ok(())
    }
}

impl<R: Read> Checksummed<R> {
    fn fill(&mut self, buf: &mut [u8]) -> Option<()> {
        self.inner.read_exact(buf).ok()?;
        self.crc.update(buf);
        Some(())
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut buf = [0u8; N];
        self.fill(&mut buf)?;
        Some(buf)
    }

    fn take_text(&mut self) -> Option<Option<String>> {
        let len = u32::from_le_bytes(self.array()?);
        if len == u32::MAX {
            return Some(None);
        }
        if len > MAX_TEXT {
            return None;
        }
        let mut buf = vec![0u8; len as usize];
        self.fill(&mut buf)?;
        String::from_utf8(buf).ok().map(Some)
    }
}
