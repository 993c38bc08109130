//! Live tests (placeholder)
