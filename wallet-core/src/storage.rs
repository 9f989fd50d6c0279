//! Where a device keeps its files: named byte strings, each replaced whole.
//!
//! The checkpoint's cache of signed files and the citizen's wallet are
//! written through [`Storage`], so the same code runs over a [`Folder`] on
//! disk (the command-line tools) and over [`Memory`] (tests, and a browser,
//! which loads its files from IndexedDB into memory and saves what changed).
//! Names are relative, with `/` between folders (`dsc/0a1b….pem`,
//! `members/me.json`); `..`, absolute names and empty parts are refused.
//!
//! A write replaces a file atomically: a reader sees the old bytes or the
//! new ones, never a mixture, and a crash mid-write leaves the old file.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use thiserror::Error;

/// A file could not be read or written. Paths are where the file is (a
/// path on disk, or `memory:<name>`).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StorageError {
    #[error("{}: {why}", path.display())]
    Io { path: PathBuf, why: String },
    #[error("{}: larger than {max} bytes", path.display())]
    TooLarge { path: PathBuf, max: u64 },
    #[error("{name:?} is not a file name inside {}", store.display())]
    BadName { store: PathBuf, name: String },
}

impl StorageError {
    /// Where the file (or the store) is.
    pub fn path(&self) -> &Path {
        match self {
            StorageError::Io { path, .. } | StorageError::TooLarge { path, .. } => path,
            StorageError::BadName { store, .. } => store,
        }
    }
}

/// Named files, each read whole (up to a limit) and replaced whole.
pub trait Storage: fmt::Debug + Send + Sync {
    /// The file's bytes, `None` if there is none. A file larger than `max`
    /// bytes is an error, and no more than `max + 1` bytes are read.
    fn read(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>, StorageError>;
    /// Replaces the file (making the folders its name holds), atomically.
    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError>;
    /// The names of the files directly in folder `dir` (`""`: the top),
    /// sorted; an empty list if the folder does not exist.
    fn list(&self, dir: &str) -> Result<Vec<String>, StorageError>;
    /// Where `name` is, for messages (`""`: the storage itself).
    fn locate(&self, name: &str) -> PathBuf;
}

/// Refuses names that could leave the storage.
fn check_name(storage: &dyn Storage, name: &str, dir: bool) -> Result<(), StorageError> {
    let bad = name.starts_with('/')
        || name.contains('\\')
        || name.split('/').any(|part| {
            part == ".." || part == "." || (part.is_empty() && !(dir && name.is_empty()))
        });
    if bad {
        return Err(StorageError::BadName {
            store: storage.locate(""),
            name: name.to_string(),
        });
    }
    Ok(())
}

/// Files in a folder on disk.
#[derive(Clone, Debug)]
pub struct Folder {
    dir: PathBuf,
}

impl Folder {
    pub fn new(dir: impl Into<PathBuf>) -> Folder {
        Folder { dir: dir.into() }
    }

    fn error(&self, name: &str, e: io::Error) -> StorageError {
        StorageError::Io {
            path: self.locate(name),
            why: e.to_string(),
        }
    }
}

impl Storage for Folder {
    fn read(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>, StorageError> {
        check_name(self, name, false)?;
        let file = match fs::File::open(self.locate(name)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(name, e)),
        };
        let mut bytes = Vec::new();
        file.take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| self.error(name, e))?;
        if bytes.len() as u64 > max {
            return Err(StorageError::TooLarge {
                path: self.locate(name),
                max,
            });
        }
        Ok(Some(bytes))
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        check_name(self, name, false)?;
        let path = self.locate(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| self.error(name, e))?;
        }
        write_atomically(&path, bytes).map_err(|e| self.error(name, e))
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, StorageError> {
        check_name(self, dir, true)?;
        let entries = match fs::read_dir(self.locate(dir)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.error(dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.error(dir, e))?;
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if let (true, Some(name)) = (is_file, entry.file_name().to_str()) {
                // Temporary files of a write in progress are not files yet.
                if !name.starts_with('.') {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    fn locate(&self, name: &str) -> PathBuf {
        if name.is_empty() {
            self.dir.clone()
        } else {
            self.dir.join(name)
        }
    }
}

/// Writes `bytes` to `path` so that readers see the old file or the new one,
/// never a mixture: a temporary file beside it, flushed, then renamed, then
/// the folder flushed so the rename survives a power cut.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    // The process id keeps two processes writing the same store apart (a
    // browser has no process ids, and no files either).
    #[cfg(not(target_family = "wasm"))]
    let pid = std::process::id();
    #[cfg(target_family = "wasm")]
    let pid = 0;
    let tmp = dir.join(format!(".{name}.{pid}.tmp"));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        #[cfg(unix)]
        fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Files in memory: for tests, and for a browser, which fills it from its
/// own database ([`Memory::insert`]) and saves what [`Memory::files`] holds
/// after a change.
#[derive(Debug, Default)]
pub struct Memory {
    files: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl Memory {
    pub fn new() -> Memory {
        Memory::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        // A panic while holding the lock cannot leave a half-written file:
        // every change is one insert.
        self.files.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts a file in as it was saved before (no checks: what is read from
    /// it is verified like any other file).
    pub fn insert(&self, name: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        check_name(self, name, false)?;
        self.lock().insert(name.to_string(), bytes);
        Ok(())
    }

    /// Every file, by name.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        self.lock().clone()
    }
}

impl Storage for Memory {
    fn read(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>, StorageError> {
        check_name(self, name, false)?;
        match self.lock().get(name) {
            Some(b) if b.len() as u64 > max => Err(StorageError::TooLarge {
                path: self.locate(name),
                max,
            }),
            Some(b) => Ok(Some(b.clone())),
            None => Ok(None),
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.insert(name, bytes.to_vec())
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, StorageError> {
        check_name(self, dir, true)?;
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        Ok(self
            .lock()
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_string)
            .collect())
    }

    fn locate(&self, name: &str) -> PathBuf {
        PathBuf::from(format!("memory:{name}"))
    }
}

#[cfg(test)]
mod tests;
