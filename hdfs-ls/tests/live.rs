//! Live tests: see below.
