//! Table tests of the OPL parser against Keto's behaviour.
//!
//! Every expected schema and every error position below was also checked against Keto's own parser
//! (ory/keto `schema/`), run on the same input; each case names the Keto test or code it mirrors.
//! Keto's positions: see [`tessera_opl::Position`].

use tessera_opl::{Namespace, ParseError, Permit, Relation, Rewrite, Schema, SubjectType, check_syntax, parse};

// ---------------------------------------------------------------------------------------------------------
// Builders.

fn ty(ns: &str) -> SubjectType {
    SubjectType::Namespace { namespace: ns.into() }
}
fn set(ns: &str, rel: &str) -> SubjectType {
    SubjectType::SubjectSet { namespace: ns.into(), relation: rel.into() }
}
fn rel(name: &str, types: Vec<SubjectType>) -> Relation {
    Relation { name: name.into(), types }
}
fn permit(name: &str, rewrite: Rewrite) -> Permit {
    Permit { name: name.into(), rewrite }
}
fn ns(name: &str, relations: Vec<Relation>, permits: Vec<Permit>) -> Namespace {
    Namespace { name: name.into(), relations, permits }
}
fn or(children: Vec<Rewrite>) -> Rewrite {
    Rewrite::Union { children }
}
fn and(children: Vec<Rewrite>) -> Rewrite {
    Rewrite::Intersection { children }
}
fn not(child: Rewrite) -> Rewrite {
    Rewrite::Not { child: Box::new(child) }
}
fn cs(relation: &str) -> Rewrite {
    Rewrite::ComputedSubjectSet { relation: relation.into() }
}
fn ttu(relation: &str, computed: &str) -> Rewrite {
    Rewrite::TupleToSubjectSet { relation: relation.into(), computed: computed.into() }
}

#[track_caller]
fn parse_ok(src: &str) -> Schema {
    match parse(src) {
        Ok(s) => {
            assert!(check_syntax(src).is_empty());
            s
        }
        Err(errors) => panic!("unexpected errors for\n{src}\n{errors:#?}"),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Valid documents.

/// The shape of Ory's documentation example (contrib/rewrites-example/namespaces.keto.ts in ory/keto), with
/// a nested traverse: File.view traverses into Folder.view, which traverses Folder parents again.
#[test]
fn docs_example() {
    let src = r#"
import { Namespace, SubjectSet, Context } from "@ory/keto-namespace-types"

class User implements Namespace {
  related: {
    manager: User[]
  }
}

class Group implements Namespace {
  related: {
    members: (User | Group)[]
  }
}

class Folder implements Namespace {
  related: {
    parents: (File | Folder)[]
    viewers: SubjectSet<Group, "members">[]
  }

  permits = {
    view: (ctx: Context): boolean =>
      this.related.viewers.includes(ctx.subject) ||
      this.related.parents.traverse((p) => p.permits.view(ctx)),
  }
}

/* Files inherit viewers from their folders. */
class File implements Namespace {
  related: {
    parents: (File | Folder)[]
    viewers: (User | SubjectSet<Group, "members">)[]
    owners: (User | SubjectSet<Group, "members">)[]
  }

  permits = {
    view: (ctx: Context): boolean =>
      this.related.parents.traverse((p) => p.permits.view(ctx)) ||
      this.related.viewers.includes(ctx.subject) ||
      this.related.owners.includes(ctx.subject),

    edit: (ctx: Context) => this.related.owners.includes(ctx.subject),
  }
}
"#;
    let want = Schema {
        namespaces: vec![
            ns("User", vec![rel("manager", vec![ty("User")])], vec![]),
            ns("Group", vec![rel("members", vec![ty("User"), ty("Group")])], vec![]),
            ns(
                "Folder",
                vec![rel("parents", vec![ty("File"), ty("Folder")]), rel("viewers", vec![set("Group", "members")])],
                vec![permit("view", or(vec![cs("viewers"), ttu("parents", "view")]))],
            ),
            ns(
                "File",
                vec![
                    rel("parents", vec![ty("File"), ty("Folder")]),
                    rel("viewers", vec![ty("User"), set("Group", "members")]),
                    rel("owners", vec![ty("User"), set("Group", "members")]),
                ],
                vec![
                    permit("view", or(vec![ttu("parents", "view"), cs("viewers"), cs("owners")])),
                    permit("edit", or(vec![cs("owners")])),
                ],
            ),
        ],
    };
    assert_eq!(parse_ok(src), want);
}

/// Mirrors schema/parser_test.go TestParser "full example" (snapshot
/// TestParser-suite=snapshots-full_example.json): `Array<…>`, a quoted relation and permit name, `;` after
/// relations and after `related: {…}`, comments inside expressions, a traverse with a trailing `,`, an
/// `&&` group inside `||`, a `!`, and parentheses that flatten into the outer union.
#[test]
fn full_example_shape() {
    let src = r#"
import { Namespace, SubjectSet, Anything } from '@ory/keto-namespace-types'

class User implements Namespace {
  related: {
    manager: User[];
  }
}

class Group implements Namespace {
  related: {
    members: (User | Group)[];
  };
}

class Folder implements Namespace {
  related: {
    parents: Array<File>
    viewers: Array<SubjectSet<Group, "members">>
  }
  permits = {
    view: (ctx: Context): boolean => this.related.viewers.includes(ctx.subject),
  }
}

class File implements Namespace {
  related: {
    parents: Array<File | Folder>
    viewers: (User | SubjectSet<Group, "members">)[]
    "owners": (User | SubjectSet<Group, "members">)[]
    siblings: File[]
  }
  // a comment
  permits = {
    view: (ctx: Context): boolean =>
      (
        this.related.parents.traverse((p) /* here */ =>
          p.related.viewers.includes(ctx.subject),
        ) && // there
        this.related.parents.traverse(p => p.permits.view(ctx)) ) ||
      (this.related.viewers.includes(ctx.subject) ||
       this.related.owners.includes(ctx.subject) ) ||
      this.related.owners.includes(ctx.subject),
    'edit': (ctx: Context) => this.related.owners.includes(ctx.subject),
    not: (ctx: Context) => !this.related.owners.includes(ctx.subject),
    rename: (ctx: Context) =>
      this.related.siblings.traverse(s => s.permits.edit(ctx)),
  }
}
"#;
    let s = parse_ok(src);
    assert_eq!(s.namespaces.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["User", "Group", "Folder", "File"]);
    let folder = s.namespace("Folder").unwrap();
    assert_eq!(folder.relations, vec![rel("parents", vec![ty("File")]), rel("viewers", vec![set("Group", "members")])]);
    let file = s.namespace("File").unwrap();
    assert_eq!(file.relation("parents").unwrap().types, vec![ty("File"), ty("Folder")]);
    assert_eq!(file.relation("owners").unwrap().types, vec![ty("User"), set("Group", "members")]);
    assert_eq!(
        file.permits,
        vec![
            permit(
                "view",
                or(vec![
                    and(vec![ttu("parents", "viewers"), ttu("parents", "view")]),
                    cs("viewers"),
                    cs("owners"),
                    cs("owners"),
                ])
            ),
            permit("edit", or(vec![cs("owners")])),
            permit("not", or(vec![not(cs("owners"))])),
            permit("rename", or(vec![ttu("siblings", "edit")])),
        ]
    );
}

/// Mirrors schema/parser_test.go TestParser "advanced typescript syntax": `;`-terminated import, relation
/// lists with `,` separators and a trailing `,`, `SubjectSet<Role, 'member'>` with single quotes, a
/// permission calling another, `;` after `permits = {…}`.
#[test]
fn advanced_typescript_syntax_shape() {
    let src = r#"
import { Namespace, SubjectSet, Context } from '@ory/keto-namespace-types';

class Role implements Namespace {
  related: {
    member: Role[]
  }
}

class Resource implements Namespace {
  related: {
    admins: SubjectSet<Role, 'member'>[],
    editors: SubjectSet<Role, 'member'>[],
  };

  permits = {
    read: (ctx: Context) => this.related.admins.traverse((role) => role.related.member.includes(ctx.subject)) ||
      this.related.editors.traverse((role) => role.related.member.includes(ctx.subject)),

    comment: (ctx: Context) => this.permits.read(ctx),
  };
}
"#;
    let s = parse_ok(src);
    let r = s.namespace("Resource").unwrap();
    assert_eq!(
        r.relations,
        vec![rel("admins", vec![set("Role", "member")]), rel("editors", vec![set("Role", "member")])]
    );
    assert_eq!(
        r.permits,
        vec![
            permit("read", or(vec![ttu("admins", "member"), ttu("editors", "member")])),
            permit("comment", or(vec![cs("read")])),
        ]
    );
}

/// Mirrors schema/parser_test.go TestParser "quoted property names": `this.related["a.b"]`,
/// `r.permits["x"](ctx)`, quoted relation and permission names.
#[test]
fn quoted_property_names() {
    let src = r#"
class Resource implements Namespace {
  related: {
    "scope.relation": Resource[]
  }
  permits = {
    "scope.a": (ctx: Context) => this.related["scope.relation"].traverse((r) => r.permits["scope.b"](ctx)),
    "scope.b": (ctx: Context) => this.related["scope.relation"].traverse((r) => r.related["scope.relation"].includes(ctx.subject)),
    "scope.c": (ctx: Context) => this.permits["scope.a"](ctx),
  }
}"#;
    let s = parse_ok(src);
    assert_eq!(
        s.namespace("Resource").unwrap().permits,
        vec![
            permit("scope.a", or(vec![ttu("scope.relation", "scope.b")])),
            permit("scope.b", or(vec![ttu("scope.relation", "scope.relation")])),
            permit("scope.c", or(vec![cs("scope.a")])),
        ]
    );
}

/// Mirrors schema/parser_test.go TestParser "inverted relationship not case" (snapshot
/// TestParser-suite=snapshots-inverted_relationship_not_case.json).
#[test]
fn inverted_relationships() {
    let src = r#"
class User implements Namespace{}
class File implements Namespace{
  related: {
    viewers: User[]
    blocked: User[]
    banned: User[]
  }
  permits = {
    view: (ctx: Context) =>
      !this.related.viewers.includes(ctx.subject) &&
      (!(
        this.related.blocked.includes(ctx.subject) &&
        this.related.banned.includes(ctx.subject)
      ))
  }
}
"#;
    let s = parse_ok(src);
    assert_eq!(
        s.namespace("File").unwrap().permits,
        vec![permit("view", and(vec![not(cs("viewers")), not(and(vec![cs("blocked"), cs("banned")]))]))]
    );
}

const A: &str = "this.related.a.includes(ctx.subject)";
const B: &str = "this.related.b.includes(ctx.subject)";
const C: &str = "this.related.c.includes(ctx.subject)";
const D: &str = "this.related.d.includes(ctx.subject)";

fn operator_doc(expr: &str) -> String {
    let expr = expr.replace('A', A).replace('B', B).replace('C', C).replace('D', D);
    format!(
        "class User implements Namespace {{}}\n\
         class Doc implements Namespace {{\n  related: {{ a: User[]; b: User[]; c: User[]; d: User[]; parents: Doc[] }}\n  \
         permits = {{\n    p: (ctx: Context): boolean => {expr},\n    q: (ctx) => this.permits.p(ctx),\n  }}\n}}\n"
    )
}

/// Operators alone and combined. Keto's parser (parser.go parsePermissionExpressions) gives `&&` and `||`
/// no precedence and folds left to right; simplifyExpression then flattens every operation with one
/// operand or with its parent's operator (Test_simplify in parser_test.go). A top-level expression is
/// always an operation: a single operand is wrapped in a union.
#[test]
fn operators_and_grouping() {
    let (a, b, c, d) = (cs("a"), cs("b"), cs("c"), cs("d"));
    let cases: Vec<(&str, Rewrite)> = vec![
        ("A", or(vec![a.clone()])),
        ("A || B", or(vec![a.clone(), b.clone()])),
        ("A && B", and(vec![a.clone(), b.clone()])),
        ("!A", or(vec![not(a.clone())])),
        ("A || B || C", or(vec![a.clone(), b.clone(), c.clone()])),
        ("A && B && C", and(vec![a.clone(), b.clone(), c.clone()])),
        // No precedence: `a || b && c` is `(a || b) && c`.
        ("A || B && C", and(vec![or(vec![a.clone(), b.clone()]), c.clone()])),
        ("A && B || C", or(vec![and(vec![a.clone(), b.clone()]), c.clone()])),
        ("A || B && C || D", or(vec![and(vec![or(vec![a.clone(), b.clone()]), c.clone()]), d.clone()])),
        ("A && B || C && D", and(vec![or(vec![and(vec![a.clone(), b.clone()]), c.clone()]), d.clone()])),
        ("!A || B", or(vec![not(a.clone()), b.clone()])),
        ("!A && B", and(vec![not(a.clone()), b.clone()])),
        ("A || !B", or(vec![a.clone(), not(b.clone())])),
        // Parentheses.
        ("A || (B && C)", or(vec![a.clone(), and(vec![b.clone(), c.clone()])])),
        ("(A || B) && C", and(vec![or(vec![a.clone(), b.clone()]), c.clone()])),
        ("A && (B && C)", and(vec![a.clone(), b.clone(), c.clone()])),
        ("(A && B) && (C || D)", and(vec![a.clone(), b.clone(), or(vec![c.clone(), d.clone()])])),
        ("((A))", or(vec![a.clone()])),
        ("(A || B)", or(vec![a.clone(), b.clone()])),
        ("(A) && (B)", and(vec![a.clone(), b.clone()])),
        // A negated group keeps its own operation, simplified inside.
        ("!(A || B)", or(vec![not(or(vec![a.clone(), b.clone()]))])),
        ("!(A)", or(vec![not(or(vec![a.clone()]))])),
        ("A || !(B && !C)", or(vec![a.clone(), not(and(vec![b.clone(), not(c.clone())]))])),
        ("!(A || (B || C))", or(vec![not(or(vec![a.clone(), b.clone(), c.clone()]))])),
        // Keto accepts juxtaposed expressions: they join the operation being built.
        ("A B", or(vec![a.clone(), b.clone()])),
        ("A && B C", and(vec![a.clone(), b.clone(), c.clone()])),
        ("A (B || C)", or(vec![a.clone(), b.clone(), c.clone()])),
        ("A !B", or(vec![a.clone(), not(b.clone())])),
        // Leaves.
        ("this.permits.q(ctx)", or(vec![cs("q")])),
        ("this.related.parents.traverse((x) => x.permits.q(ctx))", or(vec![ttu("parents", "q")])),
        ("this.related.parents.traverse(x => x.related.a.includes(ctx.subject))", or(vec![ttu("parents", "a")])),
        ("!this.related.parents.traverse(x => x.permits.p(ctx)) && A", and(vec![not(ttu("parents", "p")), a.clone()])),
    ];
    for (expr, want) in cases {
        let s = parse_ok(&operator_doc(expr));
        let got = &s.namespace("Doc").unwrap().permit("p").unwrap().rewrite;
        assert_eq!(got, &want, "{expr}");
    }
}

/// Syntax Keto tolerates that a TypeScript reader might not expect.
#[test]
fn permissive_syntax() {
    let src = r#"
import { Namespace, SubjectSet, Context } from "@ory/keto-namespace-types";
export const anything = "at the top level is skipped";
class "User" implements Namespace { };
class Group implements Namespace {
  related: {
    members: (User | Group)[];
    admins: SubjectSet<Group, members>[],
    "owners": Array<User | SubjectSet<Group, "members">>;
    parents: Group[],
  };;
  permits = {
    'view': (ctx: Context): boolean => this.related["members"].includes(ctx.subject),
    edit: (ctx) => this.related.parents.traverse((g) => g.related.members.includes(ctx.subject,),),
    "manage": (ctx: Context) => this."related".admins.includes(ctx.subject),
  };
}
"#;
    let s = parse_ok(src);
    assert_eq!(s.namespaces[0], ns("User", vec![], vec![]));
    // The trailing `,` inside `includes(…)` is only allowed in a traverse callback.
    assert_eq!(check_syntax(&src.replace("includes(ctx.subject),", "includes(ctx.subject,),")).len(), 1);
    let g = s.namespace("Group").unwrap();
    assert_eq!(
        g.relations,
        vec![
            rel("members", vec![ty("User"), ty("Group")]),
            rel("admins", vec![set("Group", "members")]),
            rel("owners", vec![ty("User"), set("Group", "members")]),
            rel("parents", vec![ty("Group")]),
        ]
    );
    assert_eq!(
        g.permits,
        vec![
            permit("view", or(vec![cs("members")])),
            permit("edit", or(vec![ttu("parents", "members")])),
            permit("manage", or(vec![cs("admins")])),
        ]
    );
}

/// Keto (parser.go parsePermits) ends the permission list without an error when an expression is empty or
/// starts with an operator; the permission is dropped and the `}` that follows closes the class.
#[test]
fn empty_expression_drops_the_permission() {
    let src = r#"
class Doc implements Namespace {
  related: { r: Doc[] }
  permits = {
    a: (ctx: Context) => this.related.r.includes(ctx.subject),
    b: (ctx: Context) =>
  }
}
class Other implements Namespace {
  permits = { c: (ctx) => () }
}
"#;
    let s = parse_ok(src);
    assert_eq!(s.namespace("Doc").unwrap().permits, vec![permit("a", or(vec![cs("r")]))]);
    assert_eq!(s.namespace("Other").unwrap().permits, vec![]);
}

/// Keto checks no duplicate names; lookups see the first declaration.
#[test]
fn duplicates_are_kept_and_the_first_declaration_wins() {
    let src = r#"
class Doc implements Namespace { related: { r: Doc[]; r: Other[] } }
class Doc implements Namespace { related: { s: Doc[] } permits = { p: (ctx) => this.related.r.includes(ctx.subject) } }
class Other implements Namespace {}
"#;
    // The second Doc's `this.related.r` is checked against the first Doc, which has `r`.
    let s = parse_ok(src);
    assert_eq!(s.namespaces.len(), 3);
    assert_eq!(s.namespaces[0].relations.len(), 2);
    assert_eq!(s.namespace("Doc").unwrap().relations[0], rel("r", vec![ty("Doc")]));
}

#[test]
fn empty_and_comment_only_documents() {
    assert_eq!(parse_ok(""), Schema::default());
    assert_eq!(parse_ok("// nothing\n/* at all */\n"), Schema::default());
    assert_eq!(parse_ok(r#"import { Namespace } from "@ory/keto-namespace-types""#), Schema::default());
}

/// Traversing a permission (not a relation) passes Keto's type check: a permission has no types to check.
#[test]
fn traversing_a_permission_type_checks() {
    let src = r#"
class Doc implements Namespace {
  related: { owners: Doc[] }
  permits = {
    own: (ctx) => this.related.owners.includes(ctx.subject),
    view: (ctx) => this.related.own.traverse(x => x.related.nothing.includes(ctx.subject)),
  }
}
"#;
    let s = parse_ok(src);
    assert_eq!(s.namespace("Doc").unwrap().permit("view").unwrap().rewrite, or(vec![ttu("own", "nothing")]));
}

// ---------------------------------------------------------------------------------------------------------
// Invalid documents: message substring and Keto's exact positions (line, column) for each error, in order.

/// An expected error: a substring of its message, its start and its end as (line, column).
type Expected = (&'static str, (u32, u32), (u32, u32));

struct Invalid {
    name: &'static str,
    /// The Keto test or code this pins.
    mirrors: &'static str,
    src: &'static str,
    errors: &'static [Expected],
}

#[test]
fn invalid_documents() {
    for case in INVALID {
        let got = check_syntax(case.src);
        let summary = |errs: &[ParseError]| -> Vec<String> {
            errs.iter()
                .map(|e| format!("{} {}:{}-{}:{}", e.message, e.start.line, e.start.column, e.end.line, e.end.column))
                .collect()
        };
        assert_eq!(got.len(), case.errors.len(), "{} ({}): {:#?}", case.name, case.mirrors, summary(&got));
        for (e, (msg, start, end)) in got.iter().zip(case.errors) {
            assert!(e.message.contains(msg), "{}: {:?} does not contain {:?}", case.name, e.message, msg);
            assert_eq!((e.start.line, e.start.column), *start, "{}: start of {:?}", case.name, e.message);
            assert_eq!((e.end.line, e.end.column), *end, "{}: end of {:?}", case.name, e.message);
        }
        assert_eq!(parse(case.src).unwrap_err(), got, "{}", case.name);
    }
}

const INVALID: &[Invalid] = &[
    Invalid {
        name: "lexer_unclosed_comment",
        mirrors: "schema/parser_test.go TestParser suite=errors \"lexer error\"; internal/e2e testcases_test.go \"OPL syntax check\"",
        src: "/* never closed",
        errors: &[("unclosed comment", (1, 1), (1, 15))],
    },
    Invalid {
        name: "lexer_open_comment",
        mirrors: "schema/lexer_test.go TestLexer suite=errors \"open comment\"",
        src: "/*",
        errors: &[("unclosed comment", (1, 1), (1, 2))],
    },
    Invalid {
        name: "lexer_open_string",
        mirrors: "schema/lexer_test.go TestLexer suite=errors \"open string literal\"",
        src: "'",
        errors: &[("unclosed string literal", (1, 1), (1, 1))],
    },
    Invalid {
        name: "lexer_non_token",
        mirrors: "schema/lexer_test.go TestLexer suite=errors \"non-token\"",
        src: "ü",
        errors: &[("unexpected character 'ü'", (1, 1), (1, 1))],
    },
    Invalid {
        name: "lexer_mixed_quotes",
        mirrors: "schema/lexer_test.go TestLexer suite=errors \"mixed quotes\"",
        src: "\"quote mismatch'",
        errors: &[("unclosed string literal", (1, 1), (1, 16))],
    },
    Invalid {
        name: "handler_comment",
        mirrors: "schema/handler_test.go TestNewHandler (POST /opl/syntax/check with \"/* comment???\")",
        src: "/* comment???",
        errors: &[("unclosed comment", (1, 1), (1, 13))],
    },
    Invalid {
        name: "syntax_before_type_errors",
        mirrors: "schema/parser_test.go TestParser suite=errors \"syntax and type errors\": one syntax error, type errors not checked",
        src: r#"class Doc implements Namespace {
  related: {
    owners: (Person | SubjectSet<Team, "members">)[]
  }

	STRAY TOKENS

  permits = {
    view: (ctx: Context): boolean => this.related.readers.includes(ctx.subject),
  }
}
"#,
        errors: &[("expected \"related\", \"permits\" or \"}\" in the class body", (6, 1), (6, 6))],
    },
    Invalid {
        name: "leading_operator",
        mirrors: "schema/parser_test.go TestParser suite=errors \"parser error\": an expression starting with || ends the permits silently, the next token is the error",
        src: r#"class Doc implements Namespace {
  permits = {
    edit: (ctx: Context) => ||
      this.related.owners.includes(ctx.subject),
"#,
        errors: &[("expected \"related\", \"permits\" or \"}\" in the class body", (4, 6), (4, 10))],
    },
    Invalid {
        name: "unknown_namespace",
        mirrors: "typechecks.go checkNamespaceExists",
        src: r#"class Doc implements Namespace {
  related: {
    owners: Person[]
  }
}
"#,
        errors: &[("namespace \"Person\" is not declared", (3, 12), (3, 18))],
    },
    Invalid {
        name: "unknown_namespaces_in_union",
        mirrors: "typechecks.go checkNamespaceExists / checkNamespaceHasRelation, errors collected in order",
        src: r#"class User implements Namespace {}
class Doc implements Namespace {
  related: {
    viewers: (User | Team | SubjectSet<Group, "members">)[]
  }
}
"#,
        errors: &[
            ("namespace \"Team\" is not declared", (4, 21), (4, 25)),
            ("namespace \"Group\" is not declared", (4, 39), (4, 44)),
        ],
    },
    Invalid {
        name: "subject_set_unknown_relation",
        mirrors: "typechecks.go checkNamespaceHasRelation: error on the relation literal",
        src: r#"class Group implements Namespace { related: { members: Group[] } }
class Doc implements Namespace {
  related: { viewers: SubjectSet<Group, "owners">[] }
}
"#,
        errors: &[("namespace \"Group\" declares no relation or permission \"owners\"", (3, 41), (3, 47))],
    },
    Invalid {
        name: "unknown_relation_and_permit",
        mirrors: "typechecks.go checkCurrentNamespaceHasRelation for this.related.X and this.permits.Y",
        src: r#"class User implements Namespace {}
class Doc implements Namespace {
  related: { viewers: User[] }
  permits = {
    view: (ctx: Context): boolean => this.related.editors.includes(ctx.subject),
    edit: (ctx: Context): boolean => this.permits.write(ctx),
  }
}
"#,
        errors: &[
            ("namespace \"Doc\" declares no relation or permission \"editors\"", (5, 50), (5, 57)),
            ("namespace \"Doc\" declares no relation or permission \"write\"", (6, 50), (6, 55)),
        ],
    },
    Invalid {
        name: "traverse_target_lacks_permit",
        mirrors: "typechecks.go checkAllRelationsTypesHaveRelation: one error per type lacking it",
        src: r#"class User implements Namespace {}
class Folder implements Namespace {
  related: { viewers: User[] }
}
class Doc implements Namespace {
  related: { parents: (Folder | User)[] }
  permits = {
    view: (ctx: Context) => this.related.parents.traverse((p) => p.permits.view(ctx)),
  }
}
"#,
        errors: &[
            ("relation \"view\" is not declared in namespace \"Folder\"", (8, 41), (8, 48)),
            ("relation \"view\" is not declared in namespace \"User\"", (8, 41), (8, 48)),
        ],
    },
    Invalid {
        name: "traverse_unknown_relation",
        mirrors: "typechecks.go: traversed relation missing reported twice (traverse check, then current-namespace check)",
        src: r#"class Doc implements Namespace {
  permits = {
    view: (ctx) => this.related.parents.traverse(p => p.related.viewers.includes(ctx.subject)),
  }
}
"#,
        errors: &[
            ("relation \"parents\" is not declared in namespace \"Doc\"", (3, 32), (3, 39)),
            ("namespace \"Doc\" declares no relation or permission \"parents\"", (3, 32), (3, 39)),
        ],
    },
    Invalid {
        name: "traverse_recursive_subject_set",
        mirrors: "typechecks.go recursiveCheckAllRelationsTypesHaveRelation depth limit (limits.go tupleToSubjectSetTypeCheckMaxDepth = 10)",
        src: r#"class User implements Namespace {}
class Group implements Namespace {
  related: { members: (User | SubjectSet<Group, "members">)[] }
}
class Doc implements Namespace {
  related: { viewers: SubjectSet<Group, "members">[] }
  permits = {
    view: (ctx) => this.related.viewers.traverse(g => g.related.members.includes(ctx.subject)),
  }
}
"#,
        errors: &[
            ("relation \"members\" is not declared in namespace \"User\"", (8, 32), (8, 39)),
            ("relation \"members\" is not declared in namespace \"User\"", (8, 32), (8, 39)),
            ("relation \"members\" is not declared in namespace \"User\"", (8, 32), (8, 39)),
            ("relation \"members\" is not declared in namespace \"User\"", (8, 32), (8, 39)),
            ("relation \"members\" is not declared in namespace \"User\"", (8, 32), (8, 39)),
            ("relation \"members\" is not declared in namespace \"User\"", (8, 32), (8, 39)),
            ("relation \"members\" is not declared in namespace \"User\"", (8, 32), (8, 39)),
            ("relation \"members\" is not declared in namespace \"User\"", (8, 32), (8, 39)),
            ("relation \"members\" is not declared in namespace \"User\"", (8, 32), (8, 39)),
            ("relation \"members\" is not declared in namespace \"User\"", (8, 32), (8, 39)),
            ("cannot type-check SubjectSet types nested this deeply", (8, 32), (8, 39)),
        ],
    },
    Invalid {
        name: "token_at_line_start",
        mirrors: "parse_errors.go toSrcPos: a span starting at column 1 starts on the previous line's newline",
        src: r#"class Doc implements Namespace {
metadata
}
"#,
        errors: &[("expected \"related\", \"permits\" or \"}\" in the class body", (1, 33), (2, 8))],
    },
    Invalid {
        name: "multibyte_drift",
        mirrors: "parse_errors.go toSrcPos counts bytes per character: columns drift after multi-byte characters",
        src: r#"// äöü
class Doc implements Namespace { related: { r: Nope[] } }
"#,
        errors: &[("namespace \"Nope\" is not declared", (2, 50), (2, 54))],
    },
    Invalid {
        name: "traverse_wrong_parameter",
        mirrors: "parser.go parseTupleToSubjectSet: a failed match leaves the verb unset, a second error lands at offset 0",
        src: r#"class Doc implements Namespace {
  permits = {
    view: (ctx) => this.related.r.traverse(p => q.related.x.includes(ctx.subject)),
  }
}
"#,
        errors: &[("expected \"p\"", (3, 48), (3, 49)), ("expected \"related\" or \"permits\"", (1, 1), (1, 1))],
    },
    Invalid {
        name: "subject_set_missing_comma",
        mirrors: "parser.go parseTypeUnion: after a failed SubjectSet the next token is still read and reported",
        src: r#"class Doc implements Namespace {
  related: { r: (SubjectSet<Doc r>)[] }
}
"#,
        errors: &[("expected \",\"", (2, 32), (2, 33)), ("expected \"|\" or \")\" in the type list", (2, 33), (2, 34))],
    },
    Invalid {
        name: "eof_in_type_union",
        mirrors: "parser.go parseTypeUnion reads past the end: Keto's stopped lexer answers at offset 0",
        src: "class Doc implements Namespace { related: { r: (",
        errors: &[("expected \"|\" or \")\" in the type list", (1, 1), (1, 1))],
    },
    Invalid {
        name: "nesting_too_deep",
        mirrors: "parser.go parsePermissionExpressions / limits.go expressionNestingMaxDepth = 10",
        src: r#"class Doc implements Namespace {
  related: { r: Doc[] }
  permits = { v: (ctx) => ((((((((((this.related.r.includes(ctx.subject)))))))))) }
}
"#,
        errors: &[("expression nested too deeply: at most 10 levels of \"(\" and \"!\"", (3, 36), (3, 40))],
    },
    Invalid {
        name: "not_nesting_too_deep",
        mirrors: "parser.go parseNotExpression depth check",
        src: r#"class Doc implements Namespace {
  related: { r: Doc[] }
  permits = { v: (ctx) => !(!(!(!(!(this.related.r.includes(ctx.subject)))))) }
}
"#,
        errors: &[("expression nested too deeply: at most 10 levels of \"(\" and \"!\"", (3, 36), (3, 40))],
    },
    Invalid {
        name: "expression_after_group",
        mirrors: "parser.go parsePermissionExpressions \"did not expect another expression\"",
        src: r#"class Doc implements Namespace {
  related: { r: Doc[] }
  permits = { v: (ctx) => (this.related.r.includes(ctx.subject)) this.related.r.includes(ctx.subject) }
}
"#,
        errors: &[("expected \"&&\" or \"||\" before another expression", (3, 65), (3, 69))],
    },
    Invalid {
        name: "wrong_verb",
        mirrors: "parser.go parsePermissionExpression: expected 'related' or 'permits'",
        src: r#"class Doc implements Namespace {
  permits = { v: (ctx) => this.relations.r.includes(ctx.subject) }
}
"#,
        errors: &[("expected \"related\" or \"permits\"", (2, 31), (2, 40))],
    },
    Invalid {
        name: "wrong_method",
        mirrors: "parser.go parsePermissionExpression: expected 'traverse' or 'includes' (Keto's lexer test uses .some(), which the parser rejects)",
        src: r#"class Doc implements Namespace {
  related: { r: Doc[] }
  permits = { v: (ctx) => this.related.r.some(ctx.subject) }
}
"#,
        errors: &[("expected \"traverse\" or \"includes\"", (3, 41), (3, 45))],
    },
    Invalid {
        name: "parameter_not_ctx",
        mirrors: "parser.go parsePermits: the parameter must be spelled ctx",
        src: r#"class Doc implements Namespace {
  permits = { v: (context: Context) => this.permits.v(context) }
}
"#,
        errors: &[("expected \"ctx\"", (2, 18), (2, 25))],
    },
    Invalid {
        name: "class_member_not_related_or_permits",
        mirrors: "schema/lexer_test.go \"single class\" (metadata = {...}) lexes but parser.go parseClass rejects it",
        src: r#"class Doc implements Namespace {
  metadata = { id: "123" }
}
"#,
        errors: &[("expected \"related\", \"permits\" or \"}\" in the class body", (2, 2), (2, 10))],
    },
    Invalid {
        name: "eof_in_related",
        mirrors: "parser.go parseRelated: end of input where a relation is expected",
        src: r#"class Doc implements Namespace {
  related: {"#,
        errors: &[("expected a relation name or \"}\"", (2, 12), (2, 12))],
    },
    Invalid {
        name: "extends_instead_of_implements",
        mirrors: "parser.go parseClass match(&name, \"implements\", \"Namespace\", \"{\")",
        src: r#"class Doc extends Namespace {}
"#,
        errors: &[("expected \"implements\"", (1, 10), (1, 17))],
    },
    Invalid {
        name: "array_generic_then_comma",
        mirrors: "parser.go parseRelated: Array<...> takes no trailing ','",
        src: r#"class Doc implements Namespace {
  related: { r: Array<Doc>, s: Doc[] }
}
"#,
        errors: &[("expected a relation name or \"}\"", (2, 26), (2, 27))],
    },
    Invalid {
        name: "keyword_as_relation_name",
        mirrors: "lexer.go keywords are not identifiers: `this` cannot name a relation",
        src: r#"class Doc implements Namespace {
  related: { this: Doc[] }
}
"#,
        errors: &[("expected a relation name or \"}\"", (2, 13), (2, 17))],
    },
    Invalid {
        name: "return_type_not_boolean",
        mirrors: "parser.go parsePermits optional(\":\", \"boolean\")",
        src: r#"class Doc implements Namespace {
  permits = { v: (ctx: Context): string => this.permits.v(ctx) }
}
"#,
        errors: &[("expected \"boolean\"", (2, 33), (2, 39))],
    },
    Invalid {
        name: "traverse_permits_trailing_comma",
        mirrors: "parser.go parseTupleToSubjectSet: no trailing ',' after x.permits.P(ctx)",
        src: r#"class Doc implements Namespace {
  related: { r: Doc[] }
  permits = { v: (ctx) => this.related.r.traverse((x) => x.permits.v(ctx),) }
}
"#,
        errors: &[("expected \")\"", (3, 73), (3, 74))],
    },
];

// ---------------------------------------------------------------------------------------------------------
// Deliberate deviations from Keto (see the parser module's docs).

/// Keto accepts `!()` and builds a negation of a nil rewrite, which its check engine dereferences; it is
/// reported here, on the `!`, after the type checks.
#[test]
fn negating_nothing_is_an_error() {
    let src = "class Doc implements Namespace {\n  permits = { v: (ctx) => !() }\n}\n";
    let errs = check_syntax(src);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].message.contains("negates an empty expression"));
    assert_eq!((errs[0].start.line, errs[0].start.column, errs[0].end.line, errs[0].end.column), (2, 26, 2, 27));
    // Type errors found by Keto come first.
    let src = "class Doc implements Namespace {\n  permits = { v: (ctx) => !() || this.permits.w(ctx) }\n}\n";
    let errs = check_syntax(src);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].message.contains("\"w\""));
}

/// Long alternating `&&`/`||` chains nest one level per alternation (Keto builds such trees without a
/// limit); past `MAX_REWRITE_DEPTH` levels this is an error instead of a tree that would overflow a stack.
#[test]
fn alternating_chains_are_bounded() {
    let mut expr = String::from("A");
    for i in 0..200 {
        expr.push_str(if i % 2 == 0 { " || B" } else { " && C" });
    }
    let errs = check_syntax(&operator_doc(&expr));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].message.contains("too deep"));
    // Within the limit it parses and nests one level per alternation.
    let mut expr = String::from("A");
    for i in 0..20 {
        expr.push_str(if i % 2 == 0 { " || B" } else { " && C" });
    }
    let s = parse_ok(&operator_doc(&expr));
    let mut depth = 0;
    let mut r = &s.namespace("Doc").unwrap().permit("p").unwrap().rewrite;
    loop {
        depth += 1;
        match r {
            Rewrite::Union { children } | Rewrite::Intersection { children } => r = &children[0],
            _ => break,
        }
    }
    assert_eq!(depth, 21);
}

// ---------------------------------------------------------------------------------------------------------
// Robustness: no panics, bounded work.

/// xorshift64*: a small deterministic generator for the property tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

fn never_panics(src: &str) {
    let errors = check_syntax(src);
    match parse(src) {
        Ok(_) => assert!(errors.is_empty(), "{src:?}"),
        Err(e) => assert_eq!(e, errors, "{src:?}"),
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        never_panics(&String::from_utf8_lossy(&bytes));
        // Mostly-ASCII text with multi-byte characters mixed in.
        let text: String = (0..len)
            .map(|_| match rng.below(10) {
                0 => rng.pick(&['ü', 'é', '€', '𝕏', '\u{feff}', '\0']),
                _ => (b' ' + (rng.next() % 95) as u8) as char,
            })
            .collect();
        never_panics(&text);
    }
}

const SOUP: &[&str] = &[
    "class",
    "implements",
    "Namespace",
    "{",
    "}",
    "related",
    "permits",
    ":",
    ";",
    ",",
    "=",
    "=>",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    "|",
    "||",
    "&&",
    "!",
    ".",
    "this",
    "ctx",
    "Context",
    "boolean",
    "subject",
    "includes",
    "traverse",
    "SubjectSet",
    "Array",
    "User",
    "Doc",
    "x",
    "r",
    "p",
    "\"r\"",
    "'Doc'",
    "\"\"",
    "/* c */",
    "// c\n",
    "\n",
    " ",
    "ü",
    "\"open",
    "/* open",
    "1",
    "&",
];

#[test]
fn random_token_soups_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..5000 {
        let n = rng.below(120);
        let mut src = String::new();
        if rng.below(2) == 0 {
            src.push_str("class Doc implements Namespace { related: { r: Doc[] } permits = { p: (ctx) => ");
        }
        for _ in 0..n {
            src.push_str(rng.pick(SOUP));
            if rng.below(3) == 0 {
                src.push(' ');
            }
        }
        never_panics(&src);
    }
}

#[test]
fn mutated_documents_never_panic() {
    let base = operator_doc("!(A || B) && C || this.related.parents.traverse(x => x.permits.q(ctx))");
    let tokens: Vec<&str> = base.split_inclusive(|c: char| !c.is_ascii_alphanumeric()).collect();
    let mut rng = Rng(7);
    for _ in 0..3000 {
        let mut t = tokens.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(t.len());
            match rng.below(4) {
                0 => {
                    t.remove(i);
                }
                1 => t.insert(i, rng.pick(SOUP)),
                2 => t.truncate(i),
                _ => {
                    let j = rng.below(t.len());
                    t.swap(i, j);
                }
            }
            if t.is_empty() {
                break;
            }
        }
        never_panics(&t.concat());
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for open in ["(", "!(", "!("] {
        let src = format!("class Doc implements Namespace {{ permits = {{ p: (ctx) => {} }} }}", open.repeat(100_000));
        let errs = check_syntax(&src);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.contains("nested too deeply"), "{errs:?}");
    }
    // Type unions, relation lists and class lists are loops, not recursion.
    let src = format!("class Doc implements Namespace {{ related: {{ r: ({}Doc)[] }} }}", "Doc | ".repeat(100_000));
    assert!(check_syntax(&src).is_empty());
    let src = "class A implements Namespace {}\n".repeat(50_000);
    assert!(check_syntax(&src).is_empty());
}

#[test]
fn long_inputs_take_linear_time() {
    // 200k operands in one union.
    let expr = vec!["this.permits.q(ctx)"; 200_000].join(" || ");
    let src = format!(
        "class Doc implements Namespace {{ permits = {{ q: (ctx) => this.permits.q(ctx), p: (ctx) => {expr} }} }}"
    );
    let start = std::time::Instant::now();
    let s = parse_ok(&src);
    let p = &s.namespace("Doc").unwrap().permit("p").unwrap().rewrite;
    assert!(matches!(p, Rewrite::Union { children } if children.len() == 200_000));
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
}

/// Keto's recursive SubjectSet check reports an error per path, which grows exponentially with the number
/// of self-referencing SubjectSet types; here it is computed with memoization and capped.
#[test]
fn exponential_type_check_is_capped() {
    let types = (0..12).map(|i| format!("SubjectSet<G, \"m{i}\">")).collect::<Vec<_>>().join(" | ");
    let rels = (0..12).map(|i| format!("m{i}: (User | {types})[]")).collect::<Vec<_>>().join("; ");
    let src = format!(
        "class User implements Namespace {{}}\n\
         class G implements Namespace {{ related: {{ {rels} }} }}\n\
         class Doc implements Namespace {{ related: {{ g: SubjectSet<G, \"m0\">[] }}\n  \
         permits = {{ p: (ctx) => this.related.g.traverse(x => x.related.m0.includes(ctx.subject)) }} }}\n"
    );
    let start = std::time::Instant::now();
    let errs = check_syntax(&src);
    assert_eq!(errs.len(), tessera_opl::MAX_ERRORS);
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
    // Without failing leaves there is nothing to report, and the memo keeps it fast.
    let src = src.replace("(User | ", "(");
    let start = std::time::Instant::now();
    let errs = check_syntax(&src);
    assert_eq!(errs.len(), tessera_opl::MAX_ERRORS, "only the depth-limit errors remain: {:?}", &errs[..1]);
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}

#[test]
fn schema_round_trips_through_json() {
    let s = parse_ok(&operator_doc("!(A || B) && C || this.related.parents.traverse(x => x.permits.q(ctx))"));
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<Schema>(&json).unwrap(), s);
}
