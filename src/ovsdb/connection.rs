//! One JSON-RPC connection to an OVSDB server (RFC 7047 section 4): requests out, replies,
//! notifications and the server's `echo` requests in.
//!
//! Writes go through an outbox and [`Connection::flush`] writes what the socket takes, so both
//! `flush` and [`Connection::read`] are cancel-safe: a `select!` may drop either at any await
//! without losing or tearing a message. The server's `echo` requests must be answered or it
//! drops the connection; [`Connection::call`] answers them itself, and a caller of `read`
//! passes them to [`Connection::answer_echo`].
use super::error::OvsdbError;
use super::framing::JsonFramer;
use crate::policy::OvsdbEndpoint;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A byte stream to the server (unix or TCP socket).
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A message from the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// The answer to one of our requests.
    Reply {
        /// Our request's id.
        id: Value,
        /// `result` (null on error).
        result: Value,
        /// `error` (null on success).
        error: Value,
    },
    /// A notification (`update`, `locked`, ...).
    Notification {
        /// The method.
        method: String,
        /// Its params.
        params: Value,
    },
    /// The server's `echo` request: answer with [`Connection::answer_echo`].
    Echo {
        /// Its id.
        id: Value,
        /// Its params (sent back).
        params: Value,
    },
}

/// A connection to one OVSDB server.
pub struct Connection {
    endpoint: String,
    stream: Box<dyn Stream>,
    framer: JsonFramer,
    outbox: Vec<u8>,
    next_id: u64,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Opens the socket.
    pub async fn connect(endpoint: &OvsdbEndpoint) -> Result<Connection, OvsdbError> {
        let name = endpoint.to_string();
        let failed = |source| OvsdbError::Connect {
            endpoint: name.clone(),
            source,
        };
        let stream: Box<dyn Stream> = match endpoint {
            OvsdbEndpoint::Unix(path) => Box::new(
                tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(failed)?,
            ),
            OvsdbEndpoint::Tcp { host, port } => {
                let s = tokio::net::TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(failed)?;
                // Small requests and answers: do not wait to fill a segment.
                let _ = s.set_nodelay(true);
                Box::new(s)
            }
        };
        Ok(Connection {
            endpoint: name,
            stream,
            framer: JsonFramer::default(),
            outbox: Vec::new(),
            next_id: 1,
        })
    }

    /// The endpoint, as written in messages.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn queue(&mut self, message: &Value) {
        // Serialising a `Value` cannot fail.
        if let Ok(bytes) = serde_json::to_vec(message) {
            self.outbox.extend_from_slice(&bytes);
        }
    }

    /// Queues a request; returns its id. Sent by the next [`flush`](Self::flush).
    pub fn queue_request(&mut self, method: &str, params: &Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.queue(&json!({"method": method, "params": params, "id": id}));
        id
    }

    /// Queues the answer to the server's `echo`.
    pub fn answer_echo(&mut self, id: &Value, params: &Value) {
        self.queue(&json!({"result": params, "error": null, "id": id}));
    }

    /// Writes the outbox. Cancel-safe: what was written is removed, the rest stays.
    pub async fn flush(&mut self) -> Result<(), OvsdbError> {
        while !self.outbox.is_empty() {
            let n = self
                .stream
                .write(&self.outbox)
                .await
                .map_err(|source| self.io(source))?;
            if n == 0 {
                return Err(self.closed());
            }
            self.outbox.drain(..n);
        }
        self.stream.flush().await.map_err(|source| self.io(source))
    }

    /// The next message. Cancel-safe: bytes read stay in the framer.
    pub async fn read(&mut self) -> Result<Incoming, OvsdbError> {
        // On the heap: a 16 KiB array here made every future awaiting `read` 16 KiB long.
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            if let Some(v) = self
                .framer
                .next_value()
                .map_err(|e| self.protocol(e.to_string()))?
            {
                return self.classify(v);
            }
            let n = self
                .stream
                .read(&mut chunk)
                .await
                .map_err(|source| self.io(source))?;
            if n == 0 {
                return Err(self.closed());
            }
            self.framer.push(&chunk[..n]);
        }
    }

    fn classify(&self, mut v: Value) -> Result<Incoming, OvsdbError> {
        let Some(obj) = v.as_object_mut() else {
            return Err(self.protocol("a message that is not a JSON object".to_owned()));
        };
        let id = obj.remove("id").unwrap_or(Value::Null);
        match obj.remove("method") {
            Some(Value::String(method)) => {
                let params = obj.remove("params").unwrap_or(Value::Null);
                if method == "echo" && !id.is_null() {
                    Ok(Incoming::Echo { id, params })
                } else {
                    Ok(Incoming::Notification { method, params })
                }
            }
            Some(other) => Err(self.protocol(format!("a method that is not a string: {other}"))),
            None => Ok(Incoming::Reply {
                id,
                result: obj.remove("result").unwrap_or(Value::Null),
                error: obj.remove("error").unwrap_or(Value::Null),
            }),
        }
    }

    /// Sends a request and waits for its reply (answering the server's echoes meanwhile);
    /// notifications that arrive first are dropped. Not cancel-safe: bound it with a timeout
    /// that drops the connection.
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, OvsdbError> {
        let id = self.queue_request(method, &params);
        loop {
            self.flush().await?;
            match self.read().await? {
                Incoming::Echo { id, params } => self.answer_echo(&id, &params),
                Incoming::Reply {
                    id: got,
                    result,
                    error,
                } if got == json!(id) => {
                    return if error.is_null() {
                        Ok(result)
                    } else {
                        Err(OvsdbError::Refused {
                            endpoint: self.endpoint.clone(),
                            method: method.to_owned(),
                            error: error.to_string(),
                        })
                    };
                }
                Incoming::Reply { .. } | Incoming::Notification { .. } => {}
            }
        }
    }

    fn io(&self, source: std::io::Error) -> OvsdbError {
        OvsdbError::Io {
            endpoint: self.endpoint.clone(),
            source,
        }
    }

    fn closed(&self) -> OvsdbError {
        OvsdbError::Closed {
            endpoint: self.endpoint.clone(),
        }
    }

    /// An error for something the server sent that is not what RFC 7047 says.
    pub fn protocol(&self, reason: String) -> OvsdbError {
        OvsdbError::Protocol {
            endpoint: self.endpoint.clone(),
            reason,
        }
    }
}
