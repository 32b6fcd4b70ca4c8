//! Where the HTTP cache keeps responses: in memory (bounded, least recently used out
//! first) and, with `--cache-dir`, in files (bounded, written atomically, never through a
//! symbolic link).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use http_cache_semantics::CachePolicy;
use serde::{Deserialize, Serialize};

/// How much the cache may hold.
#[derive(Clone, Copy, Debug)]
pub struct CacheLimits {
    /// Responses kept in memory.
    pub max_entries: usize,
    /// Bytes of bodies kept in memory.
    pub max_bytes: u64,
    /// A body larger than this is not stored at all.
    pub max_entry_bytes: u64,
    /// Bytes of files kept in the cache directory.
    pub max_disk_bytes: u64,
}

impl Default for CacheLimits {
    fn default() -> Self {
        CacheLimits {
            max_entries: 1024,
            max_bytes: 64 * 1024 * 1024,
            max_entry_bytes: 8 * 1024 * 1024,
            max_disk_bytes: 256 * 1024 * 1024,
        }
    }
}

/// One stored response: what is needed to answer with it again as it was received, and
/// the policy that says when that is allowed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// `GET` and the URL without its fragment.
    pub key: String,
    pub policy: CachePolicy,
    pub url: String,
    pub status: u16,
    pub reason: String,
    /// Headers as received (Content-Encoding included; the body is decoded), updated by
    /// the 304s that revalidated it.
    pub headers: Vec<(String, String)>,
    /// The response head as received, for the views (updated like `headers`).
    pub head: String,
    pub stored_at: SystemTime,
    /// Times it answered a request.
    pub hits: u64,
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// The first line of every cache file: a file without it is not ours.
const MAGIC: &[u8] = b"minibrowse-cache 1\n";
/// Cache files end so; anything else in the directory is left alone.
const SUFFIX: &str = ".mbc";
/// A cache file being written starts so (and ends `.part`); one an hour old was left by a
/// run that stopped halfway, and is removed.
const TEMP_PREFIX: &str = ".mbc-";

/// The responses in memory, and the directory behind them.
pub struct Store {
    limits: CacheLimits,
    memory: Mutex<Memory>,
    disk: Option<Disk>,
}

#[derive(Default)]
struct Memory {
    entries: HashMap<String, (Entry, u64)>,
    bytes: u64,
    tick: u64,
}

impl Store {
    pub fn in_memory(limits: CacheLimits) -> Store {
        Store {
            limits,
            memory: Mutex::new(Memory::default()),
            disk: None,
        }
    }

    /// A store backed by `dir` (created if missing), trimmed to its limit at once.
    pub fn with_dir(dir: &Path, limits: CacheLimits) -> Result<Store, String> {
        let disk = Disk::open(dir, limits.max_disk_bytes)?;
        Ok(Store {
            disk: Some(disk),
            ..Store::in_memory(limits)
        })
    }

    pub fn limits(&self) -> CacheLimits {
        self.limits
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stored response for `key`, from memory or the directory; `Err` says why a file
    /// that should hold it could not be read.
    pub fn get(&self, key: &str) -> Result<Option<Entry>, String> {
        {
            let mut memory = self.memory();
            memory.tick += 1;
            let tick = memory.tick;
            if let Some((entry, used)) = memory.entries.get_mut(key) {
                *used = tick;
                return Ok(Some(entry.clone()));
            }
        }
        let Some(disk) = &self.disk else {
            return Ok(None);
        };
        let found = disk.read(key, self.limits.max_entry_bytes)?;
        if let Some(entry) = &found {
            self.keep_in_memory(entry.clone());
        }
        Ok(found)
    }

    /// Stores `entry` (replacing any under its key); false when its body is over the
    /// per-entry limit. A file that cannot be written only costs the next run its copy.
    pub fn put(&self, entry: Entry) -> bool {
        if entry.body.len() as u64 > self.limits.max_entry_bytes {
            return false;
        }
        if let Some(disk) = &self.disk {
            disk.write(&entry);
        }
        self.keep_in_memory(entry);
        true
    }

    fn keep_in_memory(&self, entry: Entry) {
        let limits = self.limits;
        let mut memory = self.memory();
        memory.tick += 1;
        let tick = memory.tick;
        let size = entry.body.len() as u64;
        if let Some((old, _)) = memory.entries.insert(entry.key.clone(), (entry, tick)) {
            memory.bytes -= old.body.len() as u64;
        }
        memory.bytes += size;
        // Least recently used out first, until both limits hold.
        while memory.entries.len() > limits.max_entries || memory.bytes > limits.max_bytes {
            let oldest = memory
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone());
            let Some(oldest) = oldest else { break };
            if let Some((gone, _)) = memory.entries.remove(&oldest) {
                memory.bytes -= gone.body.len() as u64;
            }
        }
    }

    /// Counts one more answer given with the entry under `key`; returns the count.
    pub fn count_hit(&self, key: &str) -> u64 {
        let mut memory = self.memory();
        match memory.entries.get_mut(key) {
            Some((entry, _)) => {
                entry.hits += 1;
                entry.hits
            }
            None => 0,
        }
    }

    /// Drops the entry under `key`; whether there was one.
    pub fn remove(&self, key: &str) -> bool {
        let removed = {
            let mut memory = self.memory();
            match memory.entries.remove(key) {
                Some((gone, _)) => {
                    memory.bytes -= gone.body.len() as u64;
                    true
                }
                None => false,
            }
        };
        let on_disk = self.disk.as_ref().is_some_and(|d| d.remove(key));
        removed || on_disk
    }

    /// Entries and body bytes in memory.
    pub fn size(&self) -> (usize, u64) {
        let memory = self.memory();
        (memory.entries.len(), memory.bytes)
    }
}

/// The cache directory: one file per key, named by a hash of it.
struct Disk {
    dir: PathBuf,
    max_bytes: u64,
    /// Our files in the directory: size and last write, to keep under `max_bytes`.
    files: Mutex<HashMap<String, (u64, SystemTime)>>,
    temp_counter: AtomicU64,
}

impl Disk {
    fn open(dir: &Path, max_bytes: u64) -> Result<Disk, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let listing = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut files = HashMap::new();
        for item in listing.flatten() {
            let name = item.file_name().to_string_lossy().into_owned();
            // file_type() does not follow a link: a link named like ours is not counted.
            let is_file = item.file_type().is_ok_and(|t| t.is_file());
            if is_file && name.starts_with(TEMP_PREFIX) && name.ends_with(".part") {
                remove_if_stale(&item.path());
                continue;
            }
            let is_ours = name.ends_with(SUFFIX) && is_file;
            if let (true, Ok(meta)) = (is_ours, item.metadata()) {
                let written = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                files.insert(name, (meta.len(), written));
            }
        }
        let disk = Disk {
            dir: dir.to_path_buf(),
            max_bytes,
            files: Mutex::new(files),
            temp_counter: AtomicU64::new(0),
        };
        disk.trim();
        Ok(disk)
    }

    fn file_name(key: &str) -> String {
        // FNV-1a, 64 bits: a stable name from the key (the file holds the key to check).
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{hash:016x}{SUFFIX}")
    }

    fn read(&self, key: &str, max_entry_bytes: u64) -> Result<Option<Entry>, String> {
        let name = Disk::file_name(key);
        let path = self.dir.join(&name);
        let file = match open_no_follow(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let meta = file
            .metadata()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        // The head is small; a body over the per-entry limit was never written.
        let most = max_entry_bytes + 1024 * 1024;
        if !meta.is_file() || meta.len() > most {
            return Err(format!(
                "{}: not a regular file of at most {most} bytes",
                path.display()
            ));
        }
        let mut bytes = Vec::new();
        file.take(most)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let entry = decode(&bytes).map_err(|why| format!("{}: {why}", path.display()))?;
        if entry.key != key {
            // Another key with the same hash: not an error, just not this one.
            return Ok(None);
        }
        Ok(Some(entry))
    }

    fn write(&self, entry: &Entry) {
        let Ok(bytes) = encode(entry) else { return };
        let name = Disk::file_name(&entry.key);
        let temp = self.dir.join(format!(
            "{TEMP_PREFIX}{}-{}.part",
            std::process::id(),
            self.temp_counter.fetch_add(1, Ordering::Relaxed)
        ));
        // Written aside, then renamed over the old file: a reader sees the old or the new
        // whole, never half of one.
        let written = create_new_private(&temp)
            .and_then(|mut file| file.write_all(&bytes))
            .and_then(|()| std::fs::rename(&temp, self.dir.join(&name)));
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
            return;
        }
        self.files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, (bytes.len() as u64, SystemTime::now()));
        self.trim();
    }

    fn remove(&self, key: &str) -> bool {
        let name = Disk::file_name(key);
        self.files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&name);
        std::fs::remove_file(self.dir.join(name)).is_ok()
    }

    /// Removes the oldest of our files until they fit in `max_bytes`.
    fn trim(&self) {
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        let mut total: u64 = files.values().map(|(size, _)| size).sum();
        while total > self.max_bytes {
            let oldest = files
                .iter()
                .min_by_key(|(_, (_, written))| *written)
                .map(|(name, _)| name.clone());
            let Some(oldest) = oldest else { break };
            if let Some((size, _)) = files.remove(&oldest) {
                total -= size;
            }
            let _ = std::fs::remove_file(self.dir.join(&oldest));
        }
    }
}

/// Removes a half-written cache file an hour old or more (a run stopped while writing it).
fn remove_if_stale(path: &Path) {
    let age = std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|at| at.elapsed().ok());
    if age.is_some_and(|age| age.as_secs() >= 3600) {
        let _ = std::fs::remove_file(path);
    }
}

/// Opens a file for reading, refusing a symbolic link (O_NOFOLLOW).
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Creates a file that must not exist yet, readable by its owner only (cached pages are
/// private).
fn create_new_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// A file: the magic line, the entry as one line of JSON, then the body's bytes.
fn encode(entry: &Entry) -> Result<Vec<u8>, serde_json::Error> {
    let mut bytes = MAGIC.to_vec();
    bytes.extend(serde_json::to_vec(&(entry, entry.body.len()))?);
    bytes.push(b'\n');
    bytes.extend_from_slice(&entry.body);
    Ok(bytes)
}

fn decode(bytes: &[u8]) -> Result<Entry, String> {
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or("not a minibrowse cache file")?;
    let end = rest
        .iter()
        .position(|b| *b == b'\n')
        .ok_or("no end to its head")?;
    let (mut entry, body_len): (Entry, usize) =
        serde_json::from_slice(&rest[..end]).map_err(|e| format!("a broken head ({e})"))?;
    let body = &rest[end + 1..];
    if body.len() != body_len {
        return Err(format!(
            "its body is {} bytes, its head says {body_len}",
            body.len()
        ));
    }
    entry.body = body.to_vec();
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, body: &[u8]) -> Entry {
        let request = http::Request::get("http://a.test/")
            .body(())
            .expect("a request");
        let response = http::Response::builder()
            .header("cache-control", "max-age=60")
            .body(())
            .expect("a response");
        Entry {
            key: key.into(),
            policy: CachePolicy::new(&request, &response),
            url: "http://a.test/".into(),
            status: 200,
            reason: "OK".into(),
            headers: vec![("Cache-Control".into(), "max-age=60".into())],
            head: "HTTP/1.1 200 OK\r\n\r\n".into(),
            stored_at: SystemTime::now(),
            hits: 0,
            body: body.to_vec(),
        }
    }

    fn temp_dir(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "minibrowse-cache-{label}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn memory_keeps_the_most_recently_used_within_its_limits() {
        let limits = CacheLimits {
            max_entries: 2,
            max_bytes: 10,
            max_entry_bytes: 8,
            max_disk_bytes: 0,
        };
        let store = Store::in_memory(limits);
        assert!(store.put(entry("a", b"1234")));
        assert!(store.put(entry("b", b"1234")));
        assert!(store.get("a").expect("no error").is_some()); // a is now the newer
        assert!(store.put(entry("c", b"12"))); // three entries: b goes
        assert!(store.get("b").expect("no error").is_none());
        assert!(store.get("a").expect("no error").is_some());
        assert!(
            !store.put(entry("d", b"123456789")),
            "over the per-entry limit"
        );
        assert!(store.put(entry("e", b"12345678"))); // 4 + 2 + 8 > 10 bytes
        assert!(store.size().1 <= 10, "{:?}", store.size());
    }

    #[test]
    fn files_survive_a_new_store_and_bad_ones_are_refused() {
        let dir = temp_dir("files");
        let limits = CacheLimits::default();
        let store = Store::with_dir(&dir, limits).expect("the directory");
        assert!(store.put(entry("GET http://a.test/", b"hello")));
        drop(store);
        let again = Store::with_dir(&dir, limits).expect("the directory");
        let found = again.get("GET http://a.test/").expect("readable");
        assert_eq!(found.map(|e| e.body), Some(b"hello".to_vec()));

        // A foreign file under a cache name: refused with a reason, not a panic.
        let name = Disk::file_name("GET http://b.test/");
        std::fs::write(dir.join(&name), b"not ours").expect("written");
        let error = again.get("GET http://b.test/").expect_err("a foreign file");
        assert!(error.contains("not a minibrowse cache file"), "{error}");

        // A half-written file an hour old is removed when the directory is opened again; a
        // fresh one (another run may be writing it) and anything not ours are left alone.
        let old = dir.join(format!("{TEMP_PREFIX}1-1.part"));
        let new = dir.join(format!("{TEMP_PREFIX}1-2.part"));
        let foreign = dir.join("notes.txt");
        for path in [&old, &new, &foreign] {
            std::fs::write(path, b"x").expect("written");
        }
        let hour_ago = SystemTime::now() - std::time::Duration::from_secs(3601);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .and_then(|f| f.set_modified(hour_ago))
            .expect("aged");
        drop(Store::with_dir(&dir, limits).expect("the directory"));
        assert!(!old.exists() && new.exists() && foreign.exists());

        // A link under a cache name is not followed.
        let name = Disk::file_name("GET http://c.test/");
        std::os::unix::fs::symlink("/etc/hostname", dir.join(&name)).expect("a link");
        assert!(again.get("GET http://c.test/").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_directory_is_trimmed_to_its_limit_oldest_first() {
        let dir = temp_dir("trim");
        let limits = CacheLimits {
            max_disk_bytes: 3000,
            ..CacheLimits::default()
        };
        let store = Store::with_dir(&dir, limits).expect("the directory");
        for n in 0..10 {
            store.put(entry(&format!("GET http://a.test/{n}"), &[b'x'; 1000]));
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let total: u64 = std::fs::read_dir(&dir)
            .expect("listed")
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum();
        assert!(total <= 3000, "{total} bytes on disk");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
