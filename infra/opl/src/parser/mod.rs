//! The OPL parser and type checker.
//!
//! It accepts what Keto's parser (`schema/parser.go` and `schema/typechecks.go` in ory/keto) accepts, builds
//! the same rewrite trees, and reports errors on the same tokens. Keto's grammar is permissive in ways a
//! TypeScript reader would not expect; each is reproduced on purpose:
//!
//! - At the top level, every token but `class` is skipped, so `import … from "…"` lines (and any other
//!   lexable text) are tolerated.
//! - Keywords and punctuation are matched by their text: a string literal `"implements"` matches the keyword.
//! - `&&` and `||` have no precedence: they fold left to right (`a || b && c` is `(a || b) && c`), then
//!   nested operations are flattened into their parent when they have one operand or the same operator.
//! - Two expressions may follow each other without an operator after a `this.…` expression or before
//!   `(`/`!`; they join the operation being built. After `(…)` or `!…`, a further `this.…` is an error.
//! - An expression that is empty (`=> }`, `=> ()`) or starts with an operator ends the permission list
//!   without an error; the permission is dropped and parsing goes on in the class body.
//! - The parameter must be called `ctx` and typed `Context` if typed, the return type must be `boolean`
//!   if given, and the traverse callback's parameter may have any name but must be used as is.
//! - Errors are fatal (parsing stops) except where Keto goes on reading: a few inputs report two errors,
//!   one of them at offset 0 (line 1, column 1). Type checks run only when parsing found no error; they
//!   look up the first namespace or relation of a name, and do not report duplicate names.
//!
//! Two deliberate deviations, both on inputs Keto accepts but cannot evaluate safely:
//! - `!()` (a negation of nothing) is reported as an error after the type checks; Keto accepts it and its
//!   check engine then dereferences a nil rewrite.
//! - A rewrite tree deeper than [`MAX_REWRITE_DEPTH`] (only reachable by long alternating `&&`/`||`
//!   chains, as parentheses and `!` are limited to [`MAX_EXPRESSION_NESTING`]) is a parse error, so that
//!   evaluating, serializing or dropping a tree never overflows the stack.
//!
//! Type-check errors are capped at [`MAX_ERRORS`]: Keto's recursive SubjectSet check can report the same
//! error exponentially often, which is computed here with memoization instead of exponential time.

mod grammar;
mod typecheck;

use crate::lexer::Token;

use crate::{Namespace, ParseError, Permit, Position, Relation, Rewrite, Schema, SubjectType};

/// How deeply `(` and `!` may nest in one permission (Keto's `expressionNestingMaxDepth`).
pub const MAX_EXPRESSION_NESTING: i32 = 10;

/// How many SubjectSet indirections the traverse type check follows (Keto's
/// `tupleToSubjectSetTypeCheckMaxDepth`).
const TYPE_CHECK_MAX_DEPTH: i32 = 10;

/// The deepest rewrite tree accepted (Union/Intersection/Not levels, leaves included).
pub const MAX_REWRITE_DEPTH: u32 = 32;

/// At most this many errors are reported.
pub const MAX_ERRORS: usize = 1000;

/// An error before positions are computed: a message and a byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawError {
    message: String,
    start: usize,
    end: usize,
}

/// The binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Or,
    And,
}

/// A rewrite tree as Keto builds it, kept flattened as Keto's simplification would leave it.
#[derive(Debug)]
enum Node {
    Set(SetNode),
    Computed(String),
    Traverse {
        relation: String,
        computed: String,
    },
    /// `None`: Keto's negation of an empty group, `!()`.
    Invert(Option<Box<Node>>),
}

#[derive(Debug)]
struct SetNode {
    op: Op,
    children: Vec<Node>,
    depth: u32,
}

impl Node {
    fn depth(&self) -> u32 {
        match self {
            Node::Set(s) => s.depth,
            Node::Computed(_) | Node::Traverse { .. } => 1,
            Node::Invert(c) => 1 + c.as_ref().map_or(0, |c| c.depth()),
        }
    }

    fn into_rewrite(self) -> Rewrite {
        match self {
            Node::Set(s) => s.into_rewrite(),
            Node::Computed(relation) => Rewrite::ComputedSubjectSet { relation },
            Node::Traverse { relation, computed } => Rewrite::TupleToSubjectSet { relation, computed },
            Node::Invert(c) => {
                Rewrite::Not { child: Box::new(c.map_or(Rewrite::Union { children: vec![] }, |c| c.into_rewrite())) }
            }
        }
    }
}

impl SetNode {
    fn empty(op: Op) -> Self {
        SetNode { op, children: Vec::new(), depth: 1 }
    }

    /// Keto's `AsRewrite`: a group is its own operation, anything else is wrapped in a one-child union.
    fn from_child(child: Node) -> Self {
        match child {
            Node::Set(s) => s,
            other => {
                let mut s = SetNode::empty(Op::Or);
                s.push(other);
                s
            }
        }
    }

    /// Appends a finished child, flattening it as Keto's `simplifyExpression` does: an operation with a
    /// single operand, or with the same operator, gives its operands to the parent.
    fn push(&mut self, child: Node) {
        match child {
            Node::Set(s) if s.children.len() == 1 || s.op == self.op => {
                self.depth = self.depth.max(s.depth);
                self.children.extend(s.children);
            }
            other => {
                self.depth = self.depth.max(1 + other.depth());
                self.children.push(other);
            }
        }
    }

    fn into_rewrite(self) -> Rewrite {
        let children = self.children.into_iter().map(Node::into_rewrite).collect();
        match self.op {
            Op::Or => Rewrite::Union { children },
            Op::And => Rewrite::Intersection { children },
        }
    }
}

/// A relation or permission in declaration order, as Keto keeps both in one list.
#[derive(Debug)]
enum Member {
    Related { name: String, types: Vec<SubjectType> },
    Permit { name: String, rewrite: Node },
}

impl Member {
    fn name(&self) -> &str {
        match self {
            Member::Related { name, .. } | Member::Permit { name, .. } => name,
        }
    }

    fn types(&self) -> &[SubjectType] {
        match self {
            Member::Related { types, .. } => types,
            Member::Permit { .. } => &[],
        }
    }
}

#[derive(Debug)]
struct ClassDecl {
    name: String,
    members: Vec<Member>,
}

/// A deferred type check, run when parsing found no error (in the order they were added).
enum Check<'a> {
    /// A type names a declared namespace.
    NamespaceExists(Token<'a>),
    /// `SubjectSet<N, "r">`: N is declared and has r.
    NamespaceHasRelation { namespace: Token<'a>, relation: Token<'a> },
    /// `this.related.r` / `this.permits.p` / the traversed relation: the current class has it.
    CurrentHasRelation { current: String, relation: Token<'a> },
    /// `this.related.r.traverse((x) => x.related.s …)`: every type of r has s (through SubjectSets).
    AllTypesHaveRelation { current: String, relation: Token<'a>, computed: String },
}

/// Converts byte offsets into positions the way Keto does (`toSrcPos` in `schema/parse_errors.go`): it
/// walks the characters, counting one byte of the offset per character, and stops at the character where
/// the count reaches the offset. An offset `o` thus names the character ending at `o` in ASCII text: a
/// token starting at 1-based column `c` of line `l` starts at (`l`, `c - 1`) and ends at (`l`, its last
/// column), i.e. columns are 0-based for spans, except that a token at the very start of a line starts
/// at the previous line's newline (its length + 1), and offset 0 is (1, 1). Every multi-byte character
/// before an offset moves its position forward by the character's extra bytes, as in Keto.
struct PosMap {
    /// Character indices of the newlines.
    newlines: Vec<usize>,
    chars: usize,
}

impl PosMap {
    fn new(src: &str) -> Self {
        let mut newlines = Vec::new();
        let mut chars = 0;
        for (i, c) in src.chars().enumerate() {
            if c == '\n' {
                newlines.push(i);
            }
            chars = i + 1;
        }
        PosMap { newlines, chars }
    }

    fn position(&self, offset: usize) -> Position {
        if self.chars == 0 {
            return Position { line: 1, column: 0 };
        }
        let k = offset.max(1) - 1;
        let (line, column) = if k < self.chars {
            let before = self.newlines.partition_point(|&n| n < k);
            let line_start = if before == 0 { 0 } else { self.newlines[before - 1] + 1 };
            (before + 1, k - line_start + 1)
        } else {
            let line_start = self.newlines.last().map_or(0, |&n| n + 1);
            (self.newlines.len() + 1, self.chars - line_start)
        };
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Position { line: clamp(line), column: clamp(column) }
    }
}

fn positioned(src: &str, errors: Vec<RawError>) -> Vec<ParseError> {
    if errors.is_empty() {
        return Vec::new();
    }
    let map = PosMap::new(src);
    errors
        .into_iter()
        .map(|e| ParseError { message: e.message, start: map.position(e.start), end: map.position(e.end) })
        .collect()
}

/// Parses an OPL document into a [`Schema`], or returns every error Keto would report for it (see the
/// module docs for the accepted language and the positions' convention).
pub fn parse(source: &str) -> Result<Schema, Vec<ParseError>> {
    let (classes, errors) = grammar::run(source);
    if !errors.is_empty() {
        return Err(positioned(source, errors));
    }
    let namespaces = classes
        .into_iter()
        .map(|c| {
            let mut relations = Vec::new();
            let mut permits = Vec::new();
            for m in c.members {
                match m {
                    Member::Related { name, types } => relations.push(Relation { name, types }),
                    Member::Permit { name, rewrite } => permits.push(Permit { name, rewrite: rewrite.into_rewrite() }),
                }
            }
            Namespace { name: c.name, relations, permits }
        })
        .collect();
    Ok(Schema { namespaces })
}

/// The errors [`parse`] would return; empty when the document is valid. Backs `POST /opl/syntax/check`.
pub fn check_syntax(source: &str) -> Vec<ParseError> {
    let (_, errors) = grammar::run(source);
    positioned(source, errors)
}

#[cfg(test)]
mod tests {
    use super::grammar::{add_child, wrap};
    use super::*;

    #[test]
    fn positions_follow_keto() {
        let p = |src: &str, off: usize| {
            let pos = PosMap::new(src).position(off);
            (pos.line, pos.column)
        };
        assert_eq!(p("", 0), (1, 0));
        assert_eq!(p("abc", 0), (1, 1));
        assert_eq!(p("abc", 1), (1, 1));
        assert_eq!(p("abc", 3), (1, 3));
        assert_eq!(p("ab\ncd", 3), (1, 3));
        assert_eq!(p("ab\ncd", 4), (2, 1));
        assert_eq!(p("ab\ncd", 5), (2, 2));
        assert_eq!(p("é\n", 3), (2, 0));
        assert_eq!(p("éx", 3), (1, 2));
    }

    #[test]
    fn left_fold_and_flattening() {
        // Built by hand as Keto's parser would for `a || b && c`, then compared to the eager flattening.
        let leaf = |n: &str| Node::Computed(n.to_owned());
        let r = add_child(None, leaf("a"));
        let r = add_child(Some(wrap(Op::Or, r)), leaf("b"));
        let r = add_child(Some(wrap(Op::And, r)), leaf("c"));
        let cs = |n: &str| Rewrite::ComputedSubjectSet { relation: n.to_owned() };
        assert_eq!(
            r.into_rewrite(),
            Rewrite::Intersection { children: vec![Rewrite::Union { children: vec![cs("a"), cs("b")] }, cs("c")] }
        );
    }
}
