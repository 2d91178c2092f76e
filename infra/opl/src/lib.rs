//! The Ory Permission Language (OPL): the TypeScript subset Keto accepts for namespaces and permissions,
//! parsed into a compiled [`Schema`] the permission engine evaluates.
//!
//! ```text
//! class User implements Namespace {}
//! class Document implements Namespace {
//!   related: { owners: User[]; viewers: (User | SubjectSet<Group, "members">)[]; parents: Folder[] }
//!   permits = {
//!     view: (ctx: Context) => this.related.viewers.includes(ctx.subject)
//!       || this.permits.edit(ctx)
//!       || this.related.parents.traverse((p) => p.permits.view(ctx)),
//!   }
//! }
//! ```

mod lexer;
mod parser;
mod schema;

pub use parser::{MAX_ERRORS, MAX_EXPRESSION_NESTING, MAX_REWRITE_DEPTH, check_syntax, parse};
pub use schema::*;

/// A position in the source, numbered exactly as Keto numbers it in its syntax-check errors: the line is
/// 1-based; the column counts characters so that a span's `start` is the column just before its first
/// character (0-based, in effect) and its `end` the column of its last character. A span starting at a
/// line's first character starts at the previous line's end (its newline), and offset 0 is line 1 column 1.
/// Keto counts the byte offset down by one per character, so every multi-byte character earlier in the
/// document moves later positions forward by its extra bytes (possibly onto a later line); this is
/// reproduced so that the numbers match Keto's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// A parse error with the span it concerns (the token it is about).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParseError {
    pub message: String,
    pub start: Position,
    pub end: Position,
}
