//! Feeds arbitrary UTF-8 to the OPL parser: it must never panic, overflow the stack or hang, and
//! `check_syntax` must report exactly the errors `parse` returns.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_opl::Rewrite;

fuzz_target!(|src: &str| {
    let errors = tessera_opl::check_syntax(src);
    match tessera_opl::parse(src) {
        Ok(schema) => {
            assert!(errors.is_empty());
            for permit in schema.namespaces.iter().flat_map(|n| &n.permits) {
                assert!(depth(&permit.rewrite) <= tessera_opl::MAX_REWRITE_DEPTH);
            }
        }
        Err(e) => {
            assert!(!e.is_empty() && e.len() <= tessera_opl::MAX_ERRORS);
            assert_eq!(e, errors);
            for err in &e {
                assert!(err.start.line >= 1 && err.end.line >= 1);
            }
        }
    }
});

fn depth(r: &Rewrite) -> u32 {
    match r {
        Rewrite::Union { children } | Rewrite::Intersection { children } => {
            1 + children.iter().map(depth).max().unwrap_or(0)
        }
        Rewrite::Not { child } => 1 + depth(child),
        Rewrite::ComputedSubjectSet { .. } | Rewrite::TupleToSubjectSet { .. } => 1,
    }
}
