//! Test-only fixtures shared by the offender tests (report writer, pipeline, service): a
//! writer the test reads back and a sampled SYN to port 25.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use etherparse::PacketBuilder;

/// A writer the test can read back; clones share the buffer.
#[derive(Clone, Default)]
pub(crate) struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl SharedBuffer {
    /// Everything written so far, as UTF-8.
    pub(crate) fn text(&self) -> String {
        let bytes = self.0.lock().expect("not poisoned").clone();
        String::from_utf8(bytes).expect("utf-8")
    }
}

/// A SYN from `source` (its MAC ends in the address's last byte) to `198.51.100.<host>:25`,
/// cut to 128 bytes like a sample.
pub(crate) fn syn_frame(source: [u8; 4], host: u8, source_port: u16) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2([2, 0, 0, 0, 0, source[3]], [2, 0, 0, 0, 0, 0xfe])
        .ipv4(source, [198, 51, 100, host], 64)
        .tcp(source_port, 25, 1, 64240)
        .syn();
    let mut frame = Vec::with_capacity(builder.size(0));
    builder.write(&mut frame, &[]).expect("write to a Vec");
    frame.truncate(128);
    frame
}
