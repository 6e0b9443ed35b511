//! Writing files whole: a file is either wholly replaced or left as it was.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes a file so that it is either wholly replaced or left as it was.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let staged = Staged::new(path, bytes)?;
    staged.place()?.keep();
    Ok(())
}

/// Writes a secret file readable by its owner only; fails if it exists.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let name = path.display();
    let mut f = opts
        .open(path)
        .map_err(|e| Error::internal(format!("failed to create `{name}`"), e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::internal(format!("failed to write `{name}`"), e))
}

/// Output written next to its destination and synced, not yet in place.
pub struct Staged {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl Staged {
    /// Stages `bytes` for `path`. Refuses a path that is a directory, and
    /// fails (writing nothing at `path`) when its directory cannot be
    /// written.
    pub fn new(path: &Path, bytes: &[u8]) -> Result<Staged> {
        let name = path.display();
        if path.is_dir() {
            return Err(Error::bad(format!(
                "`{name}` is a directory: give the output file's name"
            )));
        }
        let mut tmp = tempfile::NamedTempFile::new_in(parent(path))
            .map_err(|e| Error::internal(format!("cannot write `{name}`"), e))?;
        tmp.write_all(bytes)
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|e| Error::internal(format!("cannot write `{name}`"), e))?;
        Ok(Staged {
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// Moves the staged file into place, keeping what was there so that
    /// [`Placed::undo`] can put it back.
    pub fn place(self) -> Result<Placed> {
        let name = self.path.display().to_string();
        let previous = if self.path.exists() {
            let keep = tempfile::Builder::new()
                .prefix(".tearline-previous-")
                .tempfile_in(parent(&self.path))
                .map_err(|e| Error::internal(format!("failed to write `{name}`"), e))?
                .into_temp_path();
            std::fs::copy(&self.path, &keep)
                .map_err(|e| Error::internal(format!("failed to write `{name}`"), e))?;
            Some(keep)
        } else {
            None
        };
        self.tmp
            .persist(&self.path)
            .map_err(|e| Error::internal(format!("failed to write `{name}`"), e.error))?;
        Ok(Placed {
            path: self.path,
            previous,
        })
    }
}

/// A file moved into place, with what it replaced.
pub struct Placed {
    path: PathBuf,
    previous: Option<tempfile::TempPath>,
}

impl Placed {
    /// Keeps the new file (the copy of the old one is removed).
    pub fn keep(self) {}

    /// Puts back what was there before (or removes the new file).
    pub fn undo(self) {
        match self.previous {
            Some(prev) => {
                let _ = prev.persist(&self.path);
            }
            None => {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}
