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

mod schema;

pub use schema::*;

/// A position in the source: 1-based line, 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// A parse error with the span it concerns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParseError {
    pub message: String,
    pub start: Position,
    pub end: Position,
}
