//! A simulated OpenFlow 1.3 switch.
