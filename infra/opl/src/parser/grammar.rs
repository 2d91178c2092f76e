//! The recursive-descent half of the parser: tokens to class declarations, rewrite trees and the type checks
//! to run afterwards, following Keto's `schema/parser.go` step by step (see the parent module for its quirks).

use crate::lexer::{Kind, Token, Tokens};

use super::*;

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
pub(super) fn run(src: &str) -> (Vec<ClassDecl>, Vec<RawError>) {
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
        let mut errors = super::typecheck::type_check(&p.classes, &checks);
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
pub(super) fn wrap(op: Op, root: SetNode) -> SetNode {
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
pub(super) fn add_child(root: Option<SetNode>, child: Node) -> SetNode {
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
