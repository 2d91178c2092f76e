use serde::Deserialize;

use super::*;

/// The config shape the control plane will read: `[billing.plans.<id>]`.
#[derive(Deserialize)]
struct Config {
    billing: BillingSection,
}

#[derive(Deserialize)]
struct BillingSection {
    plans: BTreeMap<String, PlanSpec>,
}

fn specs(toml_text: &str) -> BTreeMap<String, PlanSpec> {
    toml::from_str::<Config>(toml_text).unwrap().billing.plans
}

fn catalogue(toml_text: &str) -> Result<Catalogue, BillingError> {
    Catalogue::from_specs(specs(toml_text))
}

const TWO_PLANS: &str = r#"
[billing.plans.free]
tier = "developer"
base_price_minor = 0
daily_active_identities = { included = 500, hard_limit = 500 }

[billing.plans.team]
display_name = "Team"
tier = "production"
currency = "eur"
base_price_minor = 4900
m2m_tokens = { included = 1000, overage = { amount_minor = 1, per = 100 } }
"#;

#[test]
fn builtin_plans_validate_and_are_in_price_order() {
    let catalogue = Catalogue::builtin();
    for plan in catalogue.plans() {
        validate(plan).unwrap();
        assert_eq!(plan.currency, "usd");
    }
    let ids: Vec<_> = catalogue.plans().iter().map(|p| (p.id.as_str(), p.base_price_minor)).collect();
    assert_eq!(ids, [("developer", 0), ("production", 7_000), ("growth", 67_000), ("enterprise", 300_000)]);
    assert_eq!(catalogue.default_plan().id, "developer");
    assert_eq!(catalogue.get("enterprise").map(|p| p.custom), Some(true));
    assert_eq!(catalogue.get("production").map(|p| p.display_name.as_str()), Some("Production"));
    let developer = catalogue.default_plan();
    for meter in BillableMeter::ALL {
        let terms = developer.terms(meter);
        assert_eq!(terms.overage, None, "developer never charges overage");
        assert_eq!(Some(terms.included), terms.hard_limit, "developer includes its whole limit");
    }
}

#[test]
fn specs_from_toml_with_defaults() {
    let catalogue = catalogue(TWO_PLANS).unwrap();
    assert_eq!(catalogue.default_plan().id, "free", "the only developer-tier plan is the default");
    let free = catalogue.get("free").unwrap();
    assert_eq!(free.display_name, "free");
    assert_eq!(free.currency, "usd");
    assert!(!free.custom);
    assert_eq!(free.daily_active_identities, MeterTerms { included: 500, hard_limit: Some(500), overage: None });
    assert_eq!(free.api_requests, MeterTerms::default(), "an omitted meter is unmetered");
    let team = catalogue.get("team").unwrap();
    assert_eq!(team.currency, "eur");
    assert_eq!(team.m2m_tokens.overage, Some(Price { amount_minor: 1, per: 100 }));
    assert!(team.is_upgrade_from(free));
    assert!(!free.is_upgrade_from(team));
    assert!(team.is_upgrade_from(team), "an equal price counts as an upgrade");
}

#[test]
fn unknown_fields_are_rejected() {
    for bad in [
        "[billing.plans.x]\ntier = \"developer\"\nbase_price_minor = 0\nprice = 5\n",
        "[billing.plans.x]\ntier = \"developer\"\nbase_price_minor = 0\nm2m_tokens = { limit = 5 }\n",
        "[billing.plans.x]\ntier = \"developer\"\nbase_price_minor = 0\nm2m_tokens = { overage = { amount = 1, per = 1 } }\n",
        "[billing.plans.x]\ntier = \"platinum\"\nbase_price_minor = 0\n",
        "[billing.plans.x]\ntier = \"developer\"\n",
        "[billing.plans.x]\ntier = \"developer\"\nbase_price_minor = -1\n",
    ] {
        assert!(toml::from_str::<Config>(bad).is_err(), "{bad}");
    }
}

/// Builds a catalogue of the free plan plus one plan `p` with extra TOML lines.
fn with_plan(lines: &str) -> Result<Catalogue, BillingError> {
    catalogue(&format!(
        "[billing.plans.free]\ntier = \"developer\"\nbase_price_minor = 0\n[billing.plans.p]\ntier = \"production\"\nbase_price_minor = 100\n{lines}\n"
    ))
}

fn invalid_field(result: Result<Catalogue, BillingError>) -> (String, String) {
    match result {
        Err(BillingError::InvalidPlan { plan, field, .. }) => (plan, field),
        other => panic!("expected InvalidPlan, got {other:?}"),
    }
}

#[test]
fn validation_names_the_plan_and_field() {
    let field = |lines: &str| invalid_field(with_plan(lines));
    assert_eq!(
        field("m2m_tokens = { overage = { amount_minor = 1, per = 0 } }"),
        ("p".into(), "m2m_tokens.overage.per".into())
    );
    assert_eq!(
        field("api_requests = { hard_limit = 10, overage = { amount_minor = 1, per = 1 } }"),
        ("p".into(), "api_requests".into())
    );
    assert_eq!(
        field("permission_checks = { included = 11, hard_limit = 10 }"),
        ("p".into(), "permission_checks.included".into())
    );
    assert_eq!(field("currency = \"USD\""), ("p".into(), "currency".into()));
    assert_eq!(field("currency = \"usdt\""), ("p".into(), "currency".into()));
    assert_eq!(field("display_name = \"  \""), ("p".into(), "display_name".into()));
    assert_eq!(field("display_name = \"a\\nb\""), ("p".into(), "display_name".into()));
    assert_eq!(
        field("daily_active_identities = { overage = { amount_minor = 9223372036854775808, per = 1 } }"),
        ("p".into(), "daily_active_identities.overage.amount_minor".into())
    );
    let message = with_plan("m2m_tokens = { overage = { amount_minor = 1, per = 0 } }").unwrap_err().to_string();
    assert_eq!(message, "plan \"p\": m2m_tokens.overage.per: must be greater than 0");
}

#[test]
fn ids_must_be_dns_labels() {
    let long = "a".repeat(64);
    for id in ["Pro", "-pro", "pro-", "pro_plan", "pro.plan", "", "pró", long.as_str()] {
        let mut plans = specs(TWO_PLANS);
        let spec = plans.remove("team").unwrap();
        plans.insert(id.to_owned(), spec);
        assert_eq!(invalid_field(Catalogue::from_specs(plans)), (id.to_owned(), "id".to_owned()), "{id:?}");
    }
    for id in ["a", "9", "pro-2", &"a".repeat(63)] {
        let mut plans = specs(TWO_PLANS);
        let spec = plans.remove("team").unwrap();
        plans.insert(id.to_owned(), spec);
        assert!(Catalogue::from_specs(plans).is_ok(), "{id:?}");
    }
}

#[test]
fn base_price_must_fit_a_signed_column() {
    let result = catalogue(
        "[billing.plans.free]\ntier = \"developer\"\nbase_price_minor = 0\n[billing.plans.big]\ntier = \"growth\"\nbase_price_minor = 18446744073709551615\n",
    );
    assert_eq!(invalid_field(result), ("big".into(), "base_price_minor".into()));
}

#[test]
fn default_plan_rules() {
    assert_eq!(Catalogue::from_specs(BTreeMap::new()), Err(BillingError::EmptyCatalogue));
    // No developer-tier plan at all.
    assert_eq!(
        catalogue("[billing.plans.p]\ntier = \"production\"\nbase_price_minor = 1\n"),
        Err(BillingError::NoDefaultPlan)
    );
    // Two developer-tier plans and none marked: ambiguous.
    let two = "[billing.plans.a]\ntier = \"developer\"\nbase_price_minor = 0\n[billing.plans.b]\ntier = \"developer\"\nbase_price_minor = 0\n";
    assert_eq!(catalogue(two), Err(BillingError::NoDefaultPlan));
    // Marking one settles it.
    let marked = catalogue(&format!("{two}default = true\n")).unwrap();
    assert_eq!(marked.default_plan().id, "b");
    // Two marked.
    let both = "[billing.plans.a]\ntier = \"developer\"\nbase_price_minor = 0\ndefault = true\n[billing.plans.b]\ntier = \"developer\"\nbase_price_minor = 0\ndefault = true\n";
    assert_eq!(catalogue(both), Err(BillingError::MultipleDefaults { first: "a".into(), second: "b".into() }));
    // The marked default must be developer tier.
    let paid_default = "[billing.plans.a]\ntier = \"developer\"\nbase_price_minor = 0\n[billing.plans.p]\ntier = \"production\"\nbase_price_minor = 1\ndefault = true\n";
    assert_eq!(
        catalogue(paid_default),
        Err(BillingError::DefaultNotDeveloper { plan: "p".into(), tier: "production".into() })
    );
}
