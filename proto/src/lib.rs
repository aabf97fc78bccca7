//! OpenFlow 1.3 wire codec (OpenFlow 1.3.5 numbering). Bytes in, typed messages out, and back.
//! No I/O.
