//! One generation of the policy in force, as the sessions use it.
use crate::policy::Config;

/// A validated configuration with its generation number (1 at start, +1 per accepted reload).
#[derive(Debug)]
pub struct ActivePolicy {
    generation: u64,
    config: Config,
}

impl ActivePolicy {
    pub fn new(generation: u64, config: Config) -> Self {
        Self { generation, config }
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
}
