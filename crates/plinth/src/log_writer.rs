//! The server's log writer: lines below WARN are gathered in memory and written to
//! stderr in one `write` every [`FLUSH_EVERY`] (or once [`FLUSH_AT`] bytes wait), instead
//! of one `write` per line. Every request logs a line at INFO, and a system call per
//! line cost a third of a warm request's time. A warning or an error is written at once,
//! with everything before it, so nothing that matters waits, and the order holds.
//! [`LogFlushGuard`] writes what is left when the server stops.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

const FLUSH_EVERY: Duration = Duration::from_millis(100);
const FLUSH_AT: usize = 64 * 1024;

#[derive(Clone, Default)]
pub struct BufferedStderr {
    pending: Arc<Mutex<Vec<u8>>>,
    /// Every line is written at once (the commands other than `serve`).
    direct: bool,
}

impl BufferedStderr {
    /// A writer that writes every line at once.
    pub fn unbuffered() -> Self {
        Self {
            direct: true,
            ..Self::default()
        }
    }

    /// A writer, and a thread that writes what waits every [`FLUSH_EVERY`].
    pub fn start() -> Self {
        let writer = Self::default();
        let flusher = writer.clone();
        let _ = std::thread::Builder::new()
            .name("plinth-log".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    flusher.flush();
                }
            });
        writer
    }

    /// Writes everything waiting to stderr now.
    pub fn flush(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        write_out(&mut pending);
    }
}

/// Under the lock, so lines reach stderr in the order they were logged.
fn write_out(pending: &mut Vec<u8>) {
    if !pending.is_empty() {
        let _ = std::io::stderr().lock().write_all(pending);
        pending.clear();
    }
}

pub struct LineWriter<'a> {
    pending: &'a Mutex<Vec<u8>>,
    urgent: bool,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.extend_from_slice(data);
        if self.urgent || pending.len() >= FLUSH_AT {
            write_out(&mut pending);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BufferedStderr {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            pending: &self.pending,
            urgent: true,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        LineWriter {
            pending: &self.pending,
            // ERROR < WARN < INFO in `tracing`'s order.
            urgent: self.direct || *meta.level() <= Level::WARN,
        }
    }
}

/// Writes what is left when dropped (the end of `main`).
pub struct LogFlushGuard(pub BufferedStderr);

impl Drop for LogFlushGuard {
    fn drop(&mut self) {
        self.0.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_lines_wait_and_warnings_take_them_along() {
        let writer = BufferedStderr::default();
        let mut line = LineWriter {
            pending: &writer.pending,
            urgent: false,
        };
        line.write_all(b"an info line\n").unwrap();
        assert_eq!(writer.pending.lock().unwrap().as_slice(), b"an info line\n");
        let mut warning = LineWriter {
            pending: &writer.pending,
            urgent: true,
        };
        warning.write_all(b"a warning\n").unwrap();
        assert!(writer.pending.lock().unwrap().is_empty());
    }
}
