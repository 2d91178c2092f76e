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

use std::collections::HashMap;

use crate::lexer::{Kind, Token, Tokens, shorten};
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

struct Parser<'a> {
    tokens: Tokens<'a>,
    classes: Vec<ClassDecl>,
    current: ClassDecl,
    errors: Vec<RawError>,
    /// Errors Keto does not report (see the module docs), added after the type checks.
    late_errors: Vec<RawError>,
    fatal: bool,
    checks: Vec<Check<'a>>,
}

/// Parses and type-checks `src`; returns the classes and every error (empty when valid).
fn run(src: &str) -> (Vec<ClassDecl>, Vec<RawError>) {
    let mut p = Parser {
        tokens: Tokens::new(src),
        classes: Vec::new(),
        current: ClassDecl { name: String::new(), members: Vec::new() },
        errors: Vec::new(),
        late_errors: Vec::new(),
        fatal: false,
        checks: Vec::new(),
    };
    p.parse();
    if p.errors.is_empty() {
        let checks = std::mem::take(&mut p.checks);
        let mut errors = type_check(&p.classes, &checks);
        errors.append(&mut p.late_errors);
        errors.truncate(MAX_ERRORS);
        return (p.classes, errors);
    }
    p.errors.truncate(MAX_ERRORS);
    (p.classes, p.errors)
}

impl<'a> Parser<'a> {
    fn error(&mut self, at: &Token<'_>, message: String) {
        self.errors.push(RawError { message, start: at.start, end: at.end });
    }

    fn fatal(&mut self, at: &Token<'_>, message: String) {
        self.error(at, message);
        self.fatal = true;
    }

    /// The next token must have the text `lit` (whatever its kind).
    fn expect(&mut self, lit: &str) -> bool {
        if self.fatal {
            return false;
        }
        let t = self.tokens.next();
        if t.val != lit {
            self.fatal(&t, format!("expected {lit:?}, found {}", t.show()));
            return false;
        }
        true
    }

    /// The next token must be a name: an identifier or a string literal.
    fn expect_name(&mut self) -> Option<Token<'a>> {
        if self.fatal {
            return None;
        }
        let t = self.tokens.next();
        if t.kind != Kind::Identifier && t.kind != Kind::StringLiteral {
            self.fatal(&t, format!("expected a name (identifier or quoted string), found {}", t.show()));
            return None;
        }
        Some(t)
    }

    /// The next token, whatever it is.
    fn any(&mut self) -> Option<Token<'a>> {
        if self.fatal { None } else { Some(self.tokens.next()) }
    }

    /// If the next token is `first`, it and then `rest` are consumed and must match.
    fn optional(&mut self, first: &str, rest: &[&str]) -> bool {
        if self.fatal {
            return false;
        }
        if self.tokens.peek().val == first {
            self.tokens.next();
            return rest.iter().all(|lit| self.expect(lit));
        }
        true
    }

    fn expect_all(&mut self, lits: &[&str]) -> bool {
        lits.iter().all(|lit| self.expect(lit))
    }

    fn parse(&mut self) {
        while !self.fatal {
            let t = self.tokens.next();
            match t.kind {
                Kind::Eof => break,
                Kind::Error => {
                    let message = t.val.to_string();
                    self.fatal(&t, message);
                }
                Kind::KwClass => self.parse_class(),
                _ => {}
            }
        }
    }

    /// After `class`.
    fn parse_class(&mut self) {
        let name = match self.expect_name() {
            Some(n) => {
                self.expect_all(&["implements", "Namespace", "{"]);
                n.val.into_owned()
            }
            None => String::new(),
        };
        self.current = ClassDecl { name, members: Vec::new() };
        while !self.fatal {
            let t = self.tokens.next();
            if t.kind == Kind::BraceRight {
                let done = std::mem::replace(&mut self.current, ClassDecl { name: String::new(), members: Vec::new() });
                self.classes.push(done);
                return;
            } else if t.val == "related" {
                self.parse_related();
            } else if t.val == "permits" {
                self.parse_permits();
            } else if t.kind == Kind::Semicolon {
                continue;
            } else {
                self.fatal(
                    &t,
                    format!("expected \"related\", \"permits\" or \"}}\" in the class body, found {}", t.show()),
                );
                return;
            }
        }
    }

    /// After `related`.
    fn parse_related(&mut self) {
        self.expect_all(&[":", "{"]);
        while !self.fatal {
            let t = self.tokens.next();
            match t.kind {
                Kind::Semicolon => continue,
                Kind::BraceRight => return,
                Kind::Identifier | Kind::StringLiteral => {
                    let name = t.val.into_owned();
                    let mut types = Vec::new();
                    self.expect(":");
                    let ty = self.tokens.next();
                    if ty.val == "Array" {
                        self.expect("<");
                        types.extend(self.parse_type_union(Kind::AngledRight));
                    } else if ty.val == "SubjectSet" {
                        types.push(self.parse_subject_set());
                        self.expect_array_suffix();
                    } else if ty.kind == Kind::ParenLeft {
                        types.extend(self.parse_type_union(Kind::ParenRight));
                        self.expect_array_suffix();
                    } else {
                        types.push(SubjectType::Namespace { namespace: ty.val.to_string() });
                        self.checks.push(Check::NamespaceExists(ty));
                        self.expect_array_suffix();
                    }
                    self.current.members.push(Member::Related { name, types });
                }
                _ => {
                    self.fatal(&t, format!("expected a relation name or \"}}\", found {}", t.show()));
                    return;
                }
            }
        }
    }

    /// `[]` and an optional `,`.
    fn expect_array_suffix(&mut self) -> bool {
        self.expect_all(&["[", "]"]) && self.optional(",", &[])
    }

    /// After `SubjectSet`: `<Namespace, "relation">`.
    fn parse_subject_set(&mut self) -> SubjectType {
        let mut namespace = Token::default_at_zero();
        let mut relation = Token::default_at_zero();
        if self.expect("<")
            && let Some(n) = self.any()
        {
            namespace = n;
            if self.expect(",")
                && let Some(r) = self.any()
            {
                relation = r;
                self.expect(">");
            }
        }
        let ty = if relation.val.is_empty() {
            // Keto's relation type with an empty relation is a plain namespace type.
            SubjectType::Namespace { namespace: namespace.val.to_string() }
        } else {
            SubjectType::SubjectSet { namespace: namespace.val.to_string(), relation: relation.val.to_string() }
        };
        self.checks.push(Check::NamespaceHasRelation { namespace, relation });
        ty
    }

    /// `A | SubjectSet<B, "r"> | …` up to the `end` token.
    fn parse_type_union(&mut self, end: Kind) -> Vec<SubjectType> {
        let mut types = Vec::new();
        while !self.fatal {
            let Some(ty) = self.any() else { break };
            if ty.val == "SubjectSet" {
                types.push(self.parse_subject_set());
            } else {
                types.push(SubjectType::Namespace { namespace: ty.val.to_string() });
                self.checks.push(Check::NamespaceExists(ty));
            }
            let t = self.tokens.next();
            if t.kind == end {
                return types;
            } else if t.kind != Kind::TypeUnion {
                let want = if end == Kind::AngledRight { ">" } else { ")" };
                self.fatal(&t, format!("expected \"|\" or {want:?} in the type list, found {}", t.show()));
            }
        }
        types
    }

    /// After `permits`.
    fn parse_permits(&mut self) {
        self.expect_all(&["=", "{"]);
        while !self.fatal {
            let t = self.tokens.next();
            match t.kind {
                Kind::BraceRight => return,
                Kind::Identifier | Kind::StringLiteral => {
                    let name = t.val.into_owned();
                    let _ = self.expect_all(&[":", "(", "ctx"])
                        && self.optional(":", &["Context"])
                        && self.expect(")")
                        && self.optional(":", &["boolean"])
                        && self.expect("=>");
                    let Some(root) = self.parse_expressions(Kind::Comma, MAX_EXPRESSION_NESTING) else { return };
                    self.current.members.push(Member::Permit { name, rewrite: Node::Set(root) });
                }
                _ => {
                    self.fatal(&t, format!("expected a permission name or \"}}\", found {}", t.show()));
                    return;
                }
            }
        }
    }

    fn check_depth(&mut self, root: &SetNode, at: &Token<'_>) -> bool {
        if root.depth > MAX_REWRITE_DEPTH {
            self.fatal(
                at,
                format!("expression tree too deep: at most {MAX_REWRITE_DEPTH} levels of alternating operators"),
            );
            return false;
        }
        true
    }

    /// A sequence of expressions and operators up to `end` (consumed) or a `}` (not consumed). `None` when
    /// it is empty, starts with an operator, or on a fatal error.
    fn parse_expressions(&mut self, end: Kind, depth: i32) -> Option<SetNode> {
        if depth <= 0 {
            let t = self.tokens.peek();
            self.fatal(
                &t,
                format!("expression nested too deeply: at most {MAX_EXPRESSION_NESTING} levels of \"(\" and \"!\""),
            );
            return None;
        }
        let mut root: Option<SetNode> = None;
        let mut expect_expression = true;
        while !self.fatal {
            let t = self.tokens.peek();
            match t.kind {
                Kind::ParenLeft => {
                    self.tokens.next();
                    let group = self.parse_expressions(Kind::ParenRight, depth - 1)?;
                    let r = add_child(root.take(), Node::Set(group));
                    if !self.check_depth(&r, &t) {
                        return None;
                    }
                    root = Some(r);
                    expect_expression = false;
                }
                k if k == end => {
                    self.tokens.next();
                    return root;
                }
                Kind::BraceRight => return root,
                Kind::And | Kind::Or => {
                    self.tokens.next();
                    let old = root.take()?;
                    let r = wrap(if t.kind == Kind::And { Op::And } else { Op::Or }, old);
                    if !self.check_depth(&r, &t) {
                        return None;
                    }
                    root = Some(r);
                    expect_expression = true;
                }
                Kind::Not => {
                    self.tokens.next();
                    let child = self.parse_not(depth - 1, &t)?;
                    let r = add_child(root.take(), child);
                    if !self.check_depth(&r, &t) {
                        return None;
                    }
                    root = Some(r);
                    expect_expression = false;
                }
                _ => {
                    if !expect_expression {
                        self.fatal(
                            &t,
                            format!("expected \"&&\" or \"||\" before another expression, found {}", t.show()),
                        );
                        return None;
                    }
                    let child = self.parse_expression()?;
                    root = Some(add_child(root.take(), child));
                    expect_expression = true;
                }
            }
        }
        None
    }

    /// After `!`: a group or a single `this.…` expression.
    fn parse_not(&mut self, depth: i32, bang: &Token<'_>) -> Option<Node> {
        if depth <= 0 {
            let t = self.tokens.peek();
            self.fatal(
                &t,
                format!("expression nested too deeply: at most {MAX_EXPRESSION_NESTING} levels of \"(\" and \"!\""),
            );
            return None;
        }
        if self.tokens.peek().kind == Kind::ParenLeft {
            self.tokens.next();
            // Like Keto, an empty group still makes a negation (of nothing); it is reported after the type
            // checks, as Keto does not see it as an error.
            let group = self.parse_expressions(Kind::ParenRight, depth - 1);
            if group.is_none() && !self.fatal {
                self.late_errors.push(RawError {
                    message: "\"!\" negates an empty expression".to_owned(),
                    start: bang.start,
                    end: bang.end,
                });
            }
            return Some(Node::Invert(group.map(|g| Box::new(Node::Set(g)))));
        }
        let child = self.parse_expression()?;
        Some(Node::Invert(Some(Box::new(child))))
    }

    /// `[name]` or `.name`; `named` requires an identifier or string literal, else any token is taken.
    fn property_access(&mut self, named: bool) -> Option<Token<'a>> {
        if !self.fatal && self.tokens.peek().kind == Kind::BracketLeft {
            if self.expect("[")
                && let Some(n) = self.take(named)
                && self.expect("]")
            {
                return Some(n);
            }
            return None;
        }
        if self.expect(".") { self.take(named) } else { None }
    }

    fn take(&mut self, named: bool) -> Option<Token<'a>> {
        if named { self.expect_name() } else { self.any() }
    }

    /// `this.related.R.includes(ctx.subject)`, `this.permits.P(ctx)` or
    /// `this.related.R.traverse((x) => x.related.S.includes(ctx.subject))` / `… x.permits.P(ctx))`.
    fn parse_expression(&mut self) -> Option<Node> {
        if !self.expect_all(&["this", "."]) {
            return None;
        }
        let verb = self.any()?;
        let name = self.property_access(false)?;
        match &*verb.val {
            "related" => {
                if !self.expect(".") {
                    return None;
                }
                let t = self.tokens.next();
                match &*t.val {
                    "traverse" => self.parse_traverse(name),
                    "includes" => {
                        if !self.expect_all(&["(", "ctx", ".", "subject", ")"]) {
                            return None;
                        }
                        let relation = name.val.to_string();
                        self.checks
                            .push(Check::CurrentHasRelation { current: self.current.name.clone(), relation: name });
                        Some(Node::Computed(relation))
                    }
                    _ => {
                        self.fatal(&t, format!("expected \"traverse\" or \"includes\", found {}", t.show()));
                        None
                    }
                }
            }
            "permits" => {
                if !self.expect_all(&["(", "ctx", ")"]) {
                    return None;
                }
                let relation = name.val.to_string();
                self.checks.push(Check::CurrentHasRelation { current: self.current.name.clone(), relation: name });
                Some(Node::Computed(relation))
            }
            _ => {
                self.fatal(&verb, format!("expected \"related\" or \"permits\", found {}", verb.show()));
                None
            }
        }
    }

    /// After `this.related.R.traverse`.
    fn parse_traverse(&mut self, relation: Token<'a>) -> Option<Node> {
        if !self.expect("(") {
            return None;
        }
        let arg = if !self.fatal && self.tokens.peek().kind == Kind::ParenLeft {
            self.tokens.next();
            let arg = self.any()?;
            if !self.expect(")") {
                return None;
            }
            arg
        } else {
            self.any()?
        };
        // Keto goes on when this fails, and then also reports the (unset) verb, at offset 0.
        let mut verb = Token::default_at_zero();
        if self.expect_all(&["=>", &*arg.val, "."])
            && let Some(v) = self.any()
        {
            verb = v;
        }
        let computed = match &*verb.val {
            "related" => {
                let computed = self.property_access(true)?;
                let _ = self.expect_all(&[".", "includes", "(", "ctx", ".", "subject"])
                    && self.optional(",", &[])
                    && self.expect(")")
                    && self.optional(",", &[])
                    && self.expect(")");
                computed
            }
            "permits" => {
                let computed = self.property_access(true)?;
                self.expect_all(&["(", "ctx", ")", ")"]);
                computed
            }
            _ => {
                self.fatal(&verb, format!("expected \"related\" or \"permits\", found {}", verb.show()));
                return None;
            }
        };
        let computed = computed.val.into_owned();
        let current = self.current.name.clone();
        self.checks.push(Check::AllTypesHaveRelation {
            current: current.clone(),
            relation: relation.clone(),
            computed: computed.clone(),
        });
        let rel_name = relation.val.to_string();
        self.checks.push(Check::CurrentHasRelation { current, relation });
        Some(Node::Traverse { relation: rel_name, computed })
    }
}

/// Keto's new operation node for a binary operator, whose first operand is the root so far (with that
/// operand flattened into it, as `simplifyExpression` would, reusing its storage).
fn wrap(op: Op, root: SetNode) -> SetNode {
    if root.children.len() == 1 || root.op == op {
        SetNode { op, ..root }
    } else {
        let mut r = SetNode::empty(op);
        r.push(Node::Set(root));
        r
    }
}

/// Keto's `addChild`: the first child becomes the root (wrapped in a union unless it is a group), later
/// ones are appended to the root's operation.
fn add_child(root: Option<SetNode>, child: Node) -> SetNode {
    match root {
        None => SetNode::from_child(child),
        Some(mut r) => {
            r.push(child);
            r
        }
    }
}

impl Token<'static> {
    /// Keto's zero-valued token: empty, at offset 0.
    fn default_at_zero() -> Self {
        Token { kind: Kind::Error, val: std::borrow::Cow::Borrowed(""), start: 0, end: 0 }
    }
}

/// Name lookups that find the first declaration of a name, as Keto's do.
struct Lookup<'c> {
    namespaces: HashMap<&'c str, usize>,
    members: Vec<HashMap<&'c str, usize>>,
    classes: &'c [ClassDecl],
}

impl<'c> Lookup<'c> {
    fn new(classes: &'c [ClassDecl]) -> Self {
        let mut namespaces = HashMap::new();
        let mut members = Vec::with_capacity(classes.len());
        for (i, c) in classes.iter().enumerate() {
            namespaces.entry(c.name.as_str()).or_insert(i);
            let mut m = HashMap::new();
            for (j, r) in c.members.iter().enumerate() {
                m.entry(r.name()).or_insert(j);
            }
            members.push(m);
        }
        Lookup { namespaces, members, classes }
    }

    fn namespace(&self, name: &str) -> Option<usize> {
        self.namespaces.get(name).copied()
    }

    fn member(&self, namespace: &str, name: &str) -> Option<&'c Member> {
        let ns = self.namespace(namespace)?;
        self.members[ns].get(name).map(|&j| &self.classes[ns].members[j])
    }
}

fn type_check(classes: &[ClassDecl], checks: &[Check<'_>]) -> Vec<RawError> {
    let lookup = Lookup::new(classes);
    let mut errors = Vec::new();
    let mut memo = HashMap::new();
    for check in checks {
        if errors.len() >= MAX_ERRORS {
            break;
        }
        let remaining = MAX_ERRORS - errors.len();
        let mut err = |at: &Token<'_>, message: String| errors.push(RawError { message, start: at.start, end: at.end });
        match check {
            Check::NamespaceExists(ns) => {
                if lookup.namespace(&ns.val).is_none() {
                    err(ns, format!("namespace {:?} is not declared", shorten(&ns.val)));
                }
            }
            Check::NamespaceHasRelation { namespace, relation } => {
                if lookup.namespace(&namespace.val).is_none() {
                    err(namespace, format!("namespace {:?} is not declared", shorten(&namespace.val)));
                } else if lookup.member(&namespace.val, &relation.val).is_none() {
                    err(
                        relation,
                        format!(
                            "namespace {:?} declares no relation or permission {:?}",
                            shorten(&namespace.val),
                            shorten(&relation.val)
                        ),
                    );
                }
            }
            Check::CurrentHasRelation { current, relation } => {
                if lookup.namespace(current).is_none() {
                    err(relation, format!("namespace {:?} is not declared", shorten(current)));
                } else if lookup.member(current, &relation.val).is_none() {
                    err(
                        relation,
                        format!(
                            "namespace {:?} declares no relation or permission {:?}",
                            shorten(current),
                            shorten(&relation.val)
                        ),
                    );
                }
            }
            Check::AllTypesHaveRelation { current, relation, computed } => {
                let mut walk = TraverseCheck { lookup: &lookup, computed, memo: &mut memo, out: Vec::new() };
                walk.report(current, &relation.val, TYPE_CHECK_MAX_DEPTH, remaining);
                for message in walk.out {
                    err(relation, message);
                }
            }
        }
    }
    errors
}

/// Keto's recursive check that every type of a traversed relation has the computed relation, following
/// `SubjectSet<N, "r">` types into N's r up to [`TYPE_CHECK_MAX_DEPTH`] times. Keto reports an error
/// for every path, so the same message can repeat; this walk yields the same sequence, skipping (thanks
/// to a memo of which calls report nothing) the subtrees without errors, and stops at a limit.
struct TraverseCheck<'l, 'c, 'm> {
    lookup: &'l Lookup<'c>,
    computed: &'l str,
    memo: &'m mut HashMap<(&'c str, &'c str, String, i32), bool>,
    out: Vec<String>,
}

impl<'c> TraverseCheck<'_, 'c, '_> {
    /// Whether checking `relation` of `namespace` at `depth` reports anything.
    fn fails(&mut self, namespace: &'c str, relation: &'c str, depth: i32) -> bool {
        if depth < 0 {
            return true;
        }
        let Some(member) = self.lookup.member(namespace, relation) else { return true };
        let key = (namespace, relation, self.computed.to_owned(), depth);
        if let Some(&f) = self.memo.get(&key) {
            return f;
        }
        let mut f = false;
        for t in member.types() {
            f = match t {
                SubjectType::Namespace { namespace: n } => self.lookup.member(n, self.computed).is_none(),
                SubjectType::SubjectSet { namespace: n, relation: r } => self.fails(n, r, depth - 1),
            };
            if f {
                break;
            }
        }
        self.memo.insert(key, f);
        f
    }

    fn report(&mut self, namespace: &str, relation: &str, depth: i32, limit: usize) {
        if self.out.len() >= limit {
            return;
        }
        if depth < 0 {
            self.out.push("cannot type-check SubjectSet types nested this deeply".to_owned());
            return;
        }
        let Some(member) = self.lookup.member(namespace, relation) else {
            self.out.push(format!(
                "relation {:?} is not declared in namespace {:?}",
                shorten(relation),
                shorten(namespace)
            ));
            return;
        };
        for t in member.types() {
            if self.out.len() >= limit {
                return;
            }
            match t {
                SubjectType::Namespace { namespace: n } => {
                    if self.lookup.member(n, self.computed).is_none() {
                        self.out.push(format!(
                            "relation {:?} is not declared in namespace {:?}",
                            shorten(self.computed),
                            shorten(n)
                        ));
                    }
                }
                SubjectType::SubjectSet { namespace: n, relation: r } => {
                    if self.fails(n, r, depth - 1) {
                        self.report(n, r, depth - 1, limit);
                    }
                }
            }
        }
    }
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
    let (classes, errors) = run(source);
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
    let (_, errors) = run(source);
    positioned(source, errors)
}

#[cfg(test)]
mod tests {
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
