//! The identity engine (work in progress).
