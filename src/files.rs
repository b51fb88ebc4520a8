//! Files the user names (profiles, `tls.ca_file`, imports, export targets) are read and replaced
//! only when they are regular files. A FIFO would block the read forever, `/dev/zero` (directly or
//! through a symbolic link) never ends and reports a size of 0, and replacing a device or a
//! symbolic link with a file of ours is never what the user meant. Reads stop at the limit plus
//! one byte, whatever the file claims its size is.

use std::fmt;
use std::fs::{self, File, Metadata};
use std::io::{self, Read as _};
use std::path::Path;

/// Why a file was not read or not replaced.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("no such file")]
    NotFound,
    /// Something that is not a regular file is there (what, in words).
    #[error("this is {0}, not a regular file")]
    NotRegular(Kind),
    /// Larger than the limit; `size` where the file said so (a file that grows does not).
    #[error("the file is larger than {limit} (at most that much is read)")]
    TooLarge { limit: Size, size: Option<u64> },
    #[error("{0}")]
    Io(io::Error),
}

/// What is at a path, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Folder,
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
    Symlink,
    Other,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Folder => "a folder",
            Kind::Fifo => "a named pipe (FIFO)",
            Kind::CharDevice => "a character device",
            Kind::BlockDevice => "a block device",
            Kind::Socket => "a socket",
            Kind::Symlink => "a symbolic link",
            Kind::Other => "a special file",
        })
    }
}

/// A byte count shown in KB or MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >= 1024 * 1024 {
            write!(f, "{} MB", self.0 / (1024 * 1024))
        } else {
            write!(f, "{} KB", self.0 / 1024)
        }
    }
}

fn kind_of(meta: &Metadata) -> Option<Kind> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some(Kind::Folder);
    }
    if t.is_symlink() {
        return Some(Kind::Symlink);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return Some(Kind::Fifo);
        }
        if t.is_char_device() {
            return Some(Kind::CharDevice);
        }
        if t.is_block_device() {
            return Some(Kind::BlockDevice);
        }
        if t.is_socket() {
            return Some(Kind::Socket);
        }
    }
    Some(Kind::Other)
}

fn io_error(e: io::Error) -> FileError {
    if e.kind() == io::ErrorKind::NotFound {
        FileError::NotFound
    } else {
        FileError::Io(e)
    }
}

/// The bytes of the regular file at `path` (symbolic links followed), at most `limit` of them.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    // Checked before opening: opening a FIFO for reading blocks until a writer comes.
    let meta = fs::metadata(path).map_err(io_error)?;
    if let Some(k) = kind_of(&meta) {
        return Err(FileError::NotRegular(k));
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // Should the file be swapped for a FIFO between the check and the open, the open still
        // returns at once, and the check below refuses it.
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file: File = options.open(path).map_err(io_error)?;
    let meta = file.metadata().map_err(FileError::Io)?;
    if let Some(k) = kind_of(&meta) {
        return Err(FileError::NotRegular(k));
    }
    if meta.len() > limit {
        return Err(FileError::TooLarge {
            limit: Size(limit),
            size: Some(meta.len()),
        });
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(FileError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            limit: Size(limit),
            size: None,
        });
    }
    Ok(bytes)
}

/// Whether a file of ours may take the place of what is at `path`: nothing, or a regular file.
/// A symbolic link is refused too: renaming over it would replace the link, not its target.
pub fn check_replaceable(path: &Path) -> Result<(), FileError> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(FileError::Io(e)),
        Ok(meta) => match kind_of(&meta) {
            None => Ok(()),
            Some(k) => Err(FileError::NotRegular(k)),
        },
    }
}

/// Whether `a` and `b` name the same existing file (through links, `..` or another spelling).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if let (Ok(x), Ok(y)) = (fs::metadata(a), fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_read_and_never_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.toml");
        fs::write(&file, b"version = 1\n").unwrap();
        assert_eq!(read_limited(&file, 100).unwrap(), b"version = 1\n");
        assert!(matches!(
            read_limited(&file, 4),
            Err(FileError::TooLarge { .. })
        ));
        assert!(matches!(
            read_limited(dir.path(), 100),
            Err(FileError::NotRegular(Kind::Folder))
        ));
        assert!(matches!(
            read_limited(&dir.path().join("none"), 100),
            Err(FileError::NotFound)
        ));
        #[cfg(unix)]
        {
            let zero = dir.path().join("zero.toml");
            std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
            assert!(matches!(
                read_limited(&zero, 100),
                Err(FileError::NotRegular(Kind::CharDevice))
            ));
            assert!(matches!(
                check_replaceable(&zero),
                Err(FileError::NotRegular(Kind::Symlink))
            ));
            assert!(matches!(
                check_replaceable(Path::new("/dev/null")),
                Err(FileError::NotRegular(Kind::CharDevice))
            ));
        }
        assert!(check_replaceable(&file).is_ok());
        assert!(check_replaceable(&dir.path().join("new")).is_ok());
        assert!(same_file(&file, &dir.path().join(".").join("p.toml")));
        assert!(!same_file(&file, &dir.path().join("none")));
    }
}
