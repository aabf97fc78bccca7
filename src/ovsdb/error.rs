//! What can go wrong talking to an OVSDB server. Every message names the endpoint.
use std::time::Duration;

/// Why an OVSDB conversation failed.
#[derive(Debug, thiserror::Error)]
pub enum OvsdbError {
    /// The socket could not be opened.
    #[error("cannot connect to the Open vSwitch database at {endpoint}: {source}")]
    Connect {
        /// The endpoint.
        endpoint: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing failed.
    #[error("{endpoint}: {source}")]
    Io {
        /// The endpoint.
        endpoint: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server closed the connection.
    #[error("{endpoint} closed the connection")]
    Closed {
        /// The endpoint.
        endpoint: String,
    },
    /// The server sent something that is not OVSDB JSON-RPC, or not the schema expected.
    #[error("{endpoint} sent something op25b cannot read: {reason}")]
    Protocol {
        /// The endpoint.
        endpoint: String,
        /// What was wrong.
        reason: String,
    },
    /// The server answered a request with an error.
    #[error("{endpoint} refused {method}: {error}")]
    Refused {
        /// The endpoint.
        endpoint: String,
        /// The request's method.
        method: String,
        /// The error it gave, as JSON.
        error: String,
    },
    /// The server did not answer in time.
    #[error("{endpoint} did not answer within {} s", after.as_secs_f64())]
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// How long op25b waited.
        after: Duration,
    },
}
