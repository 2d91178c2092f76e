//! Valid documents: the schemas Keto builds for them.

use tessera_opl::*;

use super::*;

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
