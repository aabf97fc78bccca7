//! What else forgets a dpid when the status registry forgets the switch: the [`ForgetDpids`]
//! sinks registered with [`Registry::forget_with`](crate::fleet::registry::Registry::forget_with),
//! held weakly.

use parking_lot::Mutex;
use std::sync::{Arc, Weak};

/// Something else that keeps state per dpid and forgets it when the registry forgets the
/// switch (see [`Registry::forget_with`](crate::fleet::registry::Registry::forget_with)). Called
/// with the registry's map locked for writing, so a reconnect of a forgotten dpid (which needs
/// that lock) only starts after the sink forgot. Must not call back into the registry.
pub trait ForgetDpids: Send + Sync + std::fmt::Debug {
    fn forget_dpids(&self, dpids: &[u64]);
}

/// The registered sinks. A sink dropped by its owner is let go at the next add or forget.
#[derive(Debug, Default)]
pub(super) struct ForgetSinks(Mutex<Vec<Weak<dyn ForgetDpids>>>);

impl ForgetSinks {
    /// Adds `sink` (held weakly; adding the same sink again changes nothing).
    pub(super) fn add(&self, sink: &Arc<dyn ForgetDpids>) {
        let mut sinks = self.0.lock();
        sinks.retain(|s| s.strong_count() > 0);
        let weak = Arc::downgrade(sink);
        if !sinks.iter().any(|s| Weak::ptr_eq(s, &weak)) {
            sinks.push(weak);
        }
    }

    /// Tells every live sink to forget `dpids` (called outside this list's lock).
    pub(super) fn forget(&self, dpids: &[u64]) {
        let sinks: Vec<Arc<dyn ForgetDpids>> = {
            let mut sinks = self.0.lock();
            sinks.retain(|s| s.strong_count() > 0);
            sinks.iter().filter_map(Weak::upgrade).collect()
        };
        for sink in sinks {
            sink.forget_dpids(dpids);
        }
    }
}

/// A sink that remembers what it was told to forget (for tests here and in the registry's).
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct Recorder(pub(crate) Mutex<Vec<u64>>);

#[cfg(test)]
impl ForgetDpids for Recorder {
    fn forget_dpids(&self, dpids: &[u64]) {
        self.0.lock().extend_from_slice(dpids);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sink_added_twice_is_told_once() {
        let sinks = ForgetSinks::default();
        let recorder = Arc::new(Recorder::default());
        let sink: Arc<dyn ForgetDpids> = recorder.clone();
        sinks.add(&sink);
        sinks.add(&sink);
        sinks.forget(&[4, 5]);
        assert_eq!(*recorder.0.lock(), vec![4, 5]);
    }

    #[test]
    fn a_sink_dropped_by_its_owner_is_let_go() {
        let sinks = ForgetSinks::default();
        let gone: Arc<dyn ForgetDpids> = Arc::new(Recorder::default());
        sinks.add(&gone);
        drop(gone);
        let recorder = Arc::new(Recorder::default());
        let kept: Arc<dyn ForgetDpids> = recorder.clone();
        sinks.add(&kept);
        assert_eq!(sinks.0.lock().len(), 1, "only the live sink is held");
        sinks.forget(&[9]);
        assert_eq!(*recorder.0.lock(), vec![9]);
    }
}
