//! `verifier watch <folder>`: what a camera or scanner appliance drops into
//! a folder gets checked as it arrives.
//!
//! The folder is polled (no platform notification API, so it works the same
//! on any file system, network shares included). A file counts as arrived
//! once its size and modification time have stayed the same for one poll,
//! so a half-written image is not read. Files already there when watching
//! starts are left alone.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Image files a camera or scanner produces.
pub const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// What a file looked like: its size and modification time.
type Look = (u64, Option<SystemTime>);

/// What has been seen in the folder.
#[derive(Debug)]
pub struct Watcher {
    dir: PathBuf,
    /// Files already handled (or there at the start), with what they looked like.
    done: HashMap<PathBuf, Look>,
    /// Files seen once, waiting to look the same on the next poll.
    settling: HashMap<PathBuf, Look>,
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn scan(dir: &Path) -> io::Result<Vec<(PathBuf, Look)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if !is_image(&path) {
            continue;
        }
        // A file removed between listing and reading is simply skipped.
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_file() {
            found.push((path, (meta.len(), meta.modified().ok())));
        }
    }
    found.sort();
    Ok(found)
}

impl Watcher {
    /// Starts watching `dir`; images already in it are not checked.
    pub fn new(dir: &Path) -> io::Result<Watcher> {
        let done = scan(dir)?.into_iter().collect();
        Ok(Watcher {
            dir: dir.to_path_buf(),
            done,
            settling: HashMap::new(),
        })
    }

    /// How many files were there when watching started (and are still listed).
    pub fn ignored(&self) -> usize {
        self.done.len()
    }

    /// The new images that have finished arriving since the last poll, in
    /// name order. A file replaced by a new one (same name, new content) is
    /// checked again.
    pub fn poll(&mut self) -> io::Result<Vec<PathBuf>> {
        let now = scan(&self.dir)?;
        let mut ready = Vec::new();
        let mut settling = HashMap::new();
        for (path, state) in now {
            if self.done.get(&path) == Some(&state) {
                continue;
            }
            if self.settling.get(&path) == Some(&state) && state.0 > 0 {
                self.done.insert(path.clone(), state);
                ready.push(path);
            } else {
                settling.insert(path, state);
            }
        }
        self.settling = settling;
        Ok(ready)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_images_are_ready_once_they_stop_changing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("old.png"), b"x").unwrap();
        let mut w = Watcher::new(dir.path()).unwrap();
        assert_eq!(w.ignored(), 1);
        assert!(w.poll().unwrap().is_empty());
        let new = dir.path().join("scan-001.PNG");
        std::fs::write(&new, b"half").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"not an image").unwrap();
        // First sight: still settling.
        assert!(w.poll().unwrap().is_empty());
        // Unchanged on the next poll: ready, once.
        assert_eq!(w.poll().unwrap(), vec![new.clone()]);
        assert!(w.poll().unwrap().is_empty());
        // Growing files wait.
        let growing = dir.path().join("scan-002.jpg");
        std::fs::write(&growing, b"a").unwrap();
        assert!(w.poll().unwrap().is_empty());
        std::fs::write(&growing, b"abc").unwrap();
        assert!(w.poll().unwrap().is_empty());
        assert_eq!(w.poll().unwrap(), vec![growing]);
        // An empty file is never ready; a vanished folder is an error.
        std::fs::write(dir.path().join("empty.png"), b"").unwrap();
        assert!(w.poll().unwrap().is_empty());
        assert!(w.poll().unwrap().is_empty());
        drop(dir);
        assert!(w.poll().is_err());
    }
}
