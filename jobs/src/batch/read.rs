//! Reading committed landed files in parallel, with progress: the part every batch job over
//! the landing shares (the daily report, `lakeshore query`).
//!
//! [`read_files`] runs a pool of reader threads, each reusing one read buffer (a fresh 20 MB
//! allocation per file costs page faults, or, with glibc, memory that is never returned), and
//! hands each file's bytes to the job's own decoding function. The first error stops the pool
//! (files not yet started are not read) and is returned. [`Progress`] shows files and bytes
//! done: a bar on a terminal for reads longer than a second, a log line every 10 s otherwise.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lakeshore_core::source::{LandedFile, READ_RETRY};
use lakeshore_storage::Store;

use super::daily_chunks::ReportError;

/// What a file's decoding function tells the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Read more files.
    More,
    /// Enough has been read (e.g. a LIMIT is reached): start no further file.
    Enough,
}

/// Reads `files` from `store` with `readers` threads. Each thread starts with `init()` as its
/// state and calls `decode(index, file, bytes, &mut state)` for every file it reads; the
/// states are returned, one per thread. Stops at the first error and returns it.
pub fn read_files<S, I, D>(
    store: &Store,
    files: &[LandedFile],
    readers: usize,
    runtime: &tokio::runtime::Handle,
    init: I,
    decode: D,
) -> Result<Vec<S>, ReportError>
where
    S: Send,
    I: Fn() -> S + Sync,
    D: Fn(usize, &LandedFile, &[u8], &mut S) -> Result<Next, ReportError> + Sync,
{
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let first_error: Mutex<Option<ReportError>> = Mutex::new(None);
    let progress = Progress::new(files.len(), files.iter().map(|f| f.size).sum());
    let states: Vec<S> = std::thread::scope(|scope| {
        let reporter = scope.spawn(|| progress.report_until_done());
        let handles: Vec<_> = (0..readers.min(files.len()).max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut state = init();
                    let mut buf = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= files.len() || stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let file = &files[i];
                        let res = runtime
                            .block_on(store.get_into_retrying(&file.path, &mut buf, READ_RETRY))
                            .map_err(ReportError::from)
                            .and_then(|found| {
                                if found {
                                    decode(i, file, &buf, &mut state)
                                } else {
                                    Err(ReportError::Failed(format!(
                                        "{}: disappeared while reading (was the landing cleaned up?)",
                                        file.path
                                    )))
                                }
                            });
                        progress.file_done(file.size);
                        match res {
                            Ok(Next::More) => {}
                            Ok(Next::Enough) => {
                                stop.store(true, Ordering::Relaxed);
                                break;
                            }
                            Err(e) => {
                                stop.store(true, Ordering::Relaxed);
                                first_error.lock().expect("lock").get_or_insert(e);
                                break;
                            }
                        }
                    }
                    state
                })
            })
            .collect();
        let joined: Vec<std::thread::Result<S>> = handles.into_iter().map(|h| h.join()).collect();
        // Stop the progress thread before passing a reader's panic on: the scope waits for it.
        progress.finish();
        reporter.thread().unpark();
        let _ = reporter.join();
        joined
            .into_iter()
            .map(|r| r.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    match first_error.into_inner().expect("lock") {
        Some(e) => Err(e),
        None => Ok(states),
    }
}

/// Files and bytes done: a progress bar on a terminal (for reads longer than a second), a log
/// line every 10 s otherwise.
#[derive(Debug)]
pub struct Progress {
    files: usize,
    bytes: u64,
    files_done: AtomicUsize,
    bytes_done: AtomicU64,
    done: AtomicBool,
    started: Instant,
}

impl Progress {
    /// Progress over `files` files of `bytes` bytes in all.
    pub fn new(files: usize, bytes: u64) -> Self {
        Progress {
            files,
            bytes,
            files_done: AtomicUsize::new(0),
            bytes_done: AtomicU64::new(0),
            done: AtomicBool::new(false),
            started: Instant::now(),
        }
    }

    /// One more file of `bytes` bytes is done.
    pub fn file_done(&self, bytes: u64) {
        self.files_done.fetch_add(1, Ordering::Relaxed);
        self.bytes_done.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Stops [`Progress::report_until_done`] (unpark its thread to stop it at once).
    pub fn finish(&self) {
        self.done.store(true, Ordering::Relaxed);
    }

    fn line(&self) -> String {
        let (f, b) = (
            self.files_done.load(Ordering::Relaxed),
            self.bytes_done.load(Ordering::Relaxed),
        );
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        format!(
            "{f}/{} files, {:.0}/{:.0} MB, {:.0} MB/s",
            self.files,
            b as f64 / 1e6,
            self.bytes as f64 / 1e6,
            b as f64 / 1e6 / secs
        )
    }

    /// Draws the bar (terminal) or logs (otherwise) until [`Progress::finish`]; run it on a
    /// thread of its own.
    pub fn report_until_done(&self) {
        let terminal = std::io::stderr().is_terminal();
        let mut last_log = Instant::now();
        let mut drew = false;
        while !self.done.load(Ordering::Relaxed) {
            std::thread::park_timeout(Duration::from_millis(100));
            if self.done.load(Ordering::Relaxed) {
                break;
            }
            let elapsed = self.started.elapsed();
            if terminal && elapsed > Duration::from_secs(1) {
                let frac =
                    self.bytes_done.load(Ordering::Relaxed) as f64 / self.bytes.max(1) as f64;
                let filled = (frac * 30.0) as usize;
                eprint!(
                    "\r[{}{}] {}",
                    "#".repeat(filled.min(30)),
                    " ".repeat(30 - filled.min(30)),
                    self.line()
                );
                drew = true;
            } else if !terminal && last_log.elapsed() >= Duration::from_secs(10) {
                tracing::info!(progress = %self.line(), "reading landed files");
                last_log = Instant::now();
            }
        }
        if drew {
            eprintln!("\r{}", self.line());
        }
    }
}
