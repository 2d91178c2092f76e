//! Invalid documents: message substring and Keto's exact positions (line, column) for each error, in order.

use tessera_opl::*;

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
