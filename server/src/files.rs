//! Files and directories only their owner may read: the data directory (0700), the
//! token secret and the secrets key (0600), and, through the process's umask, every
//! file RocksDB creates in the store (0600).

use std::io::Write;
use std::path::Path;

/// Creates `path` (and missing parents) as 0700 and makes an existing one 0700.
pub fn private_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(path)
}

/// Writes a new file readable by its owner only (fails if it exists).
pub fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    o.mode(0o600);
    let mut f = o.open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()
}

/// Files this process creates from now on are readable by their owner only (umask
/// 077), RocksDB's among them.
pub fn owner_only_from_now_on() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}
