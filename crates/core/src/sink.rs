//! Sinks: where window results (and late and rejected records) go.
//!
//! A sink takes part in checkpoints: [`Sink::flush`] makes everything emitted so far durable,
//! [`Sink::snapshot`] says how far that is, and [`Sink::open`] with a checkpoint's snapshot
//! undoes or recognises what was written after it, so a restarted job neither loses nor
//! repeats output. How is the sink's business: the JSON-lines file sink truncates back; the
//! Kafka sink reads back what it already wrote and skips re-emitting it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use crate::batch::Reject;
use crate::window::{LateRecord, WindowResult};
use crate::{CoreError, Result};

/// How a job turns a window result into bytes.
pub trait Encode: Send + Sync + std::fmt::Debug {
    /// The output value, appended to `out`.
    fn value(&self, result: &WindowResult, out: &mut Vec<u8>);
    /// The output key (default: the window key).
    fn key<'a>(&self, result: &'a WindowResult) -> &'a [u8] {
        result.key.as_bytes()
    }
    /// The output record's timestamp (default: window end − 1 ms, as Flink stamps results).
    fn timestamp(&self, result: &WindowResult) -> i64 {
        result.end - 1
    }
}

/// A checkpoint-aware output.
pub trait Sink: Send {
    /// For logs: what this sink writes.
    fn describe(&self) -> String;
    /// Prepares writing; `restored` is this sink's part of the checkpoint being resumed.
    fn open(&mut self, restored: Option<&serde_json::Value>) -> Result<()>;
    /// Writes one window result.
    fn emit(&mut self, result: &WindowResult) -> Result<()>;
    /// A late record (side output). Default: nothing (the pipeline counts and logs it).
    fn late(&mut self, _late: &LateRecord, _origin: &str) -> Result<()> {
        Ok(())
    }
    /// A record that could not be decoded (dead letter). Default: nothing (the pipeline counts
    /// and logs it).
    fn reject(&mut self, _reject: &Reject) -> Result<()> {
        Ok(())
    }
    /// Makes everything emitted so far durable.
    fn flush(&mut self) -> Result<()>;
    /// After a flush: how far the durable output goes, for the checkpoint.
    fn snapshot(&mut self) -> Result<serde_json::Value>;
}

/// Writes each result as one line to a local file (or stdout with `-`).
///
/// On restore it truncates the file back to the checkpoint's length, so a restarted job
/// appends exactly what the crashed one had not made part of a checkpoint.
#[derive(Debug)]
pub struct JsonLinesSink {
    path: PathBuf,
    out: Option<BufWriter<Box<dyn WriteSync>>>,
    encoder: Box<dyn Encode>,
    written: u64,
    buf: Vec<u8>,
}

trait WriteSync: Write + Send + std::fmt::Debug {
    fn sync(&mut self) -> std::io::Result<()>;
}

impl WriteSync for File {
    fn sync(&mut self) -> std::io::Result<()> {
        self.sync_data()
    }
}

impl WriteSync for std::io::Stdout {
    fn sync(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl JsonLinesSink {
    pub fn new(path: impl Into<PathBuf>, encoder: Box<dyn Encode>) -> Self {
        JsonLinesSink {
            path: path.into(),
            out: None,
            encoder,
            written: 0,
            buf: Vec::with_capacity(256),
        }
    }

    fn io(&self, source: std::io::Error) -> CoreError {
        CoreError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }
}

impl Sink for JsonLinesSink {
    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn open(&mut self, restored: Option<&serde_json::Value>) -> Result<()> {
        if self.path.as_os_str() == "-" {
            self.out = Some(BufWriter::new(Box::new(std::io::stdout())));
            return Ok(());
        }
        let keep = restored
            .and_then(|v| v.get("bytes"))
            .and_then(|b| b.as_u64());
        let file = match keep {
            Some(len) => {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&self.path)
                    .map_err(|e| self.io(e))?;
                f.set_len(len).map_err(|e| self.io(e))?;
                self.written = len;
                let mut f = f;
                std::io::Seek::seek(&mut f, std::io::SeekFrom::End(0)).map_err(|e| self.io(e))?;
                f
            }
            None => File::create(&self.path).map_err(|e| self.io(e))?,
        };
        self.out = Some(BufWriter::new(Box::new(file)));
        Ok(())
    }

    fn emit(&mut self, result: &WindowResult) -> Result<()> {
        self.buf.clear();
        self.encoder.value(result, &mut self.buf);
        self.buf.push(b'\n');
        let out = self.out.as_mut().expect("open() before emit()");
        if let Err(e) = out.write_all(&self.buf) {
            return Err(self.io(e));
        }
        self.written += self.buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let out = self.out.as_mut().expect("open() before flush()");
        let res = out.flush().and_then(|_| out.get_mut().sync());
        res.map_err(|e| self.io(e))
    }

    fn snapshot(&mut self) -> Result<serde_json::Value> {
        Ok(serde_json::json!({ "bytes": self.written }))
    }
}
