//! Identity schemas (work in progress).
