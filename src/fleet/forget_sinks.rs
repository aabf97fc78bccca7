//! What else forgets a dpid when the status registry forgets the switch.

/// Something else that keeps state per dpid and forgets it when the registry forgets the
/// switch (see [`Registry::forget_with`](crate::fleet::registry::Registry::forget_with)). Called with the registry's map locked for writing, so
/// a reconnect of a forgotten dpid (which needs that lock) only starts after the sink forgot.
/// Must not call back into the registry.
pub trait ForgetDpids: Send + Sync + std::fmt::Debug {
    fn forget_dpids(&self, dpids: &[u64]);
}
