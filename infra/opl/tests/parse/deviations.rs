//! Deliberate deviations from Keto (see the parser module's docs).

use tessera_opl::*;

use super::*;

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
