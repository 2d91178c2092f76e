//! Turns the validator's errors into Kratos' UI message vocabulary (ids 4000001-4000041), with Kratos' texts and
//! context keys, so Ory SDK clients and UIs render them unchanged.
//!
//! Texts follow Kratos' `text/message_validation.go` exactly except where noted "chosen". The `reason()` line
//! mimics ory/jsonschema's `I[<instance>] S[<schema>] <message>` form used in admin API `reason`s.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::{Value, json};

use crate::pointer;

/// Kratos' generic validation message id: the text is the validator's own explanation.
pub const ID_GENERIC: u32 = 4000001;
/// `Property <name> is missing.`
pub const ID_REQUIRED: u32 = 4000002;
/// `length must be >= <min>, but got <actual>`
pub const ID_MIN_LENGTH: u32 = 4000003;
/// `does not match pattern "<re>"`
pub const ID_PATTERN: u32 = 4000004;
/// `length must be <= <max>, but got <actual>`
pub const ID_MAX_LENGTH: u32 = 4000017;
/// `must be >= <min> but found <actual>`
pub const ID_MINIMUM: u32 = 4000018;
/// `must be > <min> but found <actual>`
pub const ID_EXCLUSIVE_MINIMUM: u32 = 4000019;
/// `must be <= <max> but found <actual>`
pub const ID_MAXIMUM: u32 = 4000020;
/// `must be < <max> but found <actual>`
pub const ID_EXCLUSIVE_MAXIMUM: u32 = 4000021;
/// `<actual> not multipleOf <base>`
pub const ID_MULTIPLE_OF: u32 = 4000022;
/// `maximum <n> items allowed, but found <m> items`
pub const ID_MAX_ITEMS: u32 = 4000023;
/// `minimum <n> items allowed, but found <m> items`
pub const ID_MIN_ITEMS: u32 = 4000024;
/// `items at index <a> and <b> are equal`
pub const ID_UNIQUE_ITEMS: u32 = 4000025;
/// `expected <types>, but got <type>`
pub const ID_WRONG_TYPE: u32 = 4000026;
/// `must be equal to constant <value>`
pub const ID_CONST: u32 = 4000029;
/// `const failed` (object/array constants)
pub const ID_CONST_GENERIC: u32 = 4000030;
/// `Enter a valid email address`
pub const ID_EMAIL: u32 = 4000040;
/// `Enter a valid phone number`
pub const ID_PHONE: u32 = 4000041;

/// One trait validation failure, shaped like a Kratos UI message plus where it belongs.
#[derive(Debug, Clone, PartialEq)]
pub struct TraitError {
    /// JSON pointer of the offending value, e.g. `#/traits/email`. For a missing required property this is the
    /// missing property itself (where Kratos attaches the message), not the object that lacks it.
    pub pointer: String,
    /// The form field the message belongs on (`traits.email`); `None` means the whole form (`ui.messages`).
    pub field: Option<String>,
    /// Kratos message id (4000001 generic, 4000002 required, ...).
    pub id: u32,
    /// Kratos message text.
    pub text: String,
    /// Kratos message context object; `Null` when Kratos sends none.
    pub context: Value,
    /// The ory/jsonschema-style line for admin API reasons.
    reason: String,
}

impl TraitError {
    /// Builds an error for a check outside JSON Schema (e.g. the identity engine's own), so every trait problem
    /// reaches the UI in one shape. The field is derived from `pointer` as Kratos does.
    pub fn new(pointer: impl Into<String>, id: u32, text: impl Into<String>, context: Value) -> Self {
        let pointer = pointer.into();
        let text = text.into();
        let reason = format!("I[{pointer}] S[#] {text}");
        Self { field: pointer::to_dotted(&pointer), pointer, id, text, context, reason }
    }

    /// One line like Kratos' admin API `reason`:
    /// `I[#/traits] S[#/properties/traits/required] missing properties: "email"`.
    pub fn reason(&self) -> String {
        self.reason.clone()
    }
}

/// A translated message before it is placed: Kratos' id/text/context and ory/jsonschema's wording for `reason`.
struct Message {
    id: u32,
    text: String,
    context: Value,
    /// ory/jsonschema's own wording, used in [`TraitError::reason`].
    message: String,
}

impl Message {
    /// Where Kratos' text equals the validator's wording.
    fn same(id: u32, text: String, context: Value) -> Self {
        Self { id, message: text.clone(), text, context }
    }

    /// 4000001: the validator's wording as the text, and as `context.reason`.
    fn generic(message: String) -> Self {
        Self { id: ID_GENERIC, text: message.clone(), context: json!({ "reason": message }), message }
    }
}

/// Appends the Kratos messages for one validator error (several for `anyOf`/`oneOf`, whose branch errors Kratos
/// reports individually).
pub(crate) fn translate(err: &jsonschema::ValidationError<'_>, out: &mut Vec<TraitError>) {
    let instance_ptr = format!("#{}", err.instance_path().as_str());
    let schema_ptr = format!("#{}", err.schema_path().as_str());
    let mut pointer = instance_ptr.clone();
    let m = match err.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().map_or_else(|| property.to_string(), str::to_owned);
            // Kratos attaches the message to the missing property's own field.
            pointer = format!("{instance_ptr}/{}", pointer::escape(&name));
            Message {
                id: ID_REQUIRED,
                text: format!("Property {name} is missing."),
                message: format!("missing properties: {}", go_quote(&name)),
                context: json!({ "property": name }),
            }
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            for e in context.iter().flatten() {
                translate(e, out);
            }
            return;
        }
        // Anything not translated: the validator's own explanation, as Kratos does for keywords it does not know.
        kind => describe(kind, err.instance()).unwrap_or_else(|| Message::generic(err.to_string())),
    };
    let reason = format!("I[{instance_ptr}] S[{schema_ptr}] {}", m.message);
    out.push(TraitError {
        field: pointer::to_dotted(&pointer),
        pointer,
        id: m.id,
        text: m.text,
        context: m.context,
        reason,
    });
}

/// Kratos' message for one keyword failure on `instance`; `None` for keywords without a translation.
fn describe(kind: &ValidationErrorKind, instance: &Value) -> Option<Message> {
    let length = || instance.as_str().map_or(0, |s| s.chars().count());
    let items = || instance.as_array().map_or(0, Vec::len);
    let properties = || instance.as_object().map_or(0, serde_json::Map::len);
    Some(match kind {
        ValidationErrorKind::MinLength { limit } => Message::same(
            ID_MIN_LENGTH,
            format!("length must be >= {limit}, but got {}", length()),
            json!({"min_length": limit, "actual_length": length()}),
        ),
        ValidationErrorKind::MaxLength { limit } => Message::same(
            ID_MAX_LENGTH,
            format!("length must be <= {limit}, but got {}", length()),
            json!({"max_length": limit, "actual_length": length()}),
        ),
        ValidationErrorKind::Pattern { pattern } => Message::same(
            ID_PATTERN,
            format!("does not match pattern {}", go_quote(pattern)),
            json!({ "pattern": pattern }),
        ),
        ValidationErrorKind::Format { format } => {
            let value = instance.as_str().map_or_else(|| instance.to_string(), str::to_owned);
            let message = format!("{} is not valid {}", go_quote(&value), go_quote(format));
            let (id, text) = match format.as_str() {
                "email" | "idn-email" => (ID_EMAIL, "Enter a valid email address"),
                "tel" => (ID_PHONE, "Enter a valid phone number"),
                _ => return Some(Message::generic(message)),
            };
            Message { id, text: text.to_owned(), context: json!({ "value": value }), message }
        }
        ValidationErrorKind::Type { kind } => {
            let allowed: Vec<&str> = match kind {
                TypeKind::Single(t) => vec![t.as_str()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.as_str()).collect(),
            };
            let actual = go_type(instance);
            let text = format!("expected {}, but got {actual}", allowed.join(" or "));
            Message::same(ID_WRONG_TYPE, text, json!({"allowed_types": allowed, "actual_type": actual}))
        }
        ValidationErrorKind::Minimum { limit } => bound(ID_MINIMUM, ">=", "minimum", limit, instance),
        ValidationErrorKind::ExclusiveMinimum { limit } => bound(ID_EXCLUSIVE_MINIMUM, ">", "minimum", limit, instance),
        ValidationErrorKind::Maximum { limit } => bound(ID_MAXIMUM, "<=", "maximum", limit, instance),
        ValidationErrorKind::ExclusiveMaximum { limit } => bound(ID_EXCLUSIVE_MAXIMUM, "<", "maximum", limit, instance),
        ValidationErrorKind::MultipleOf { multiple_of } => {
            let (base_text, base) = go_float(*multiple_of);
            let (actual_text, actual) = go_float(instance.as_f64().unwrap_or(f64::NAN));
            let text = format!("{actual_text} not multipleOf {base_text}");
            Message::same(ID_MULTIPLE_OF, text, json!({"base": base, "actual": actual}))
        }
        ValidationErrorKind::MaxItems { limit } => Message::same(
            ID_MAX_ITEMS,
            format!("maximum {limit} items allowed, but found {} items", items()),
            json!({"max_items": limit, "actual_items": items()}),
        ),
        ValidationErrorKind::MinItems { limit } => Message::same(
            ID_MIN_ITEMS,
            format!("minimum {limit} items allowed, but found {} items", items()),
            json!({"min_items": limit, "actual_items": items()}),
        ),
        ValidationErrorKind::UniqueItems => {
            let (a, b) = first_duplicate(instance.as_array().map_or(&[], Vec::as_slice));
            let text = format!("items at index {a} and {b} are equal");
            Message::same(ID_UNIQUE_ITEMS, text, json!({"index_a": a, "index_b": b}))
        }
        ValidationErrorKind::Constant { expected_value } => match expected_value.as_ref() {
            Value::Object(_) | Value::Array(_) => Message::same(ID_CONST_GENERIC, "const failed".into(), Value::Null),
            scalar => {
                let expected = scalar.to_string();
                Message {
                    id: ID_CONST,
                    text: format!("must be equal to constant {expected}"),
                    message: format!("value must be {expected}"),
                    context: json!({ "expected": expected }),
                }
            }
        },
        ValidationErrorKind::Enum { options } => {
            let listed = match options.as_ref() {
                Value::Array(a) => a.iter().map(Value::to_string).collect::<Vec<_>>().join(", "),
                other => other.to_string(),
            };
            Message::generic(format!("value must be one of {listed}"))
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let names = unexpected.iter().map(|n| go_quote(n)).collect::<Vec<_>>().join(", ");
            Message::generic(format!("additionalProperties {names} not allowed"))
        }
        ValidationErrorKind::MinProperties { limit } => {
            Message::generic(format!("minimum {limit} properties allowed, but found {} properties", properties()))
        }
        ValidationErrorKind::MaxProperties { limit } => {
            Message::generic(format!("maximum {limit} properties allowed, but found {} properties", properties()))
        }
        ValidationErrorKind::Not { .. } => Message::generic("not failed".into()),
        ValidationErrorKind::FalseSchema => Message::generic("always fail".into()),
        ValidationErrorKind::Contains => Message::generic("contains failed".into()),
        // Chosen text: ory/jsonschema names the two matching branches, the Rust validator does not.
        ValidationErrorKind::OneOfMultipleValid { .. } => Message::generic("valid against more than one schema".into()),
        _ => return None,
    })
}

/// minimum/maximum family: Kratos formats both numbers with Go's `%v` for float64.
fn bound(id: u32, op: &str, key: &str, limit: &Value, instance: &Value) -> Message {
    let (limit_text, limit) = go_float(limit.as_f64().unwrap_or(f64::NAN));
    let (actual_text, actual) = go_float(instance.as_f64().unwrap_or(f64::NAN));
    let mut context = serde_json::Map::new();
    context.insert(key.to_owned(), limit);
    context.insert("actual".to_owned(), actual);
    Message::same(id, format!("must be {op} {limit_text} but found {actual_text}"), Value::Object(context))
}

/// ory/jsonschema's type names: every number is "number".
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Go's `%q`, approximated by JSON string quoting (they differ only for control and non-printable characters).
fn go_quote(s: &str) -> String {
    Value::from(s).to_string()
}

/// A float as Go's `%v` prints it (`5`, `0.5`, `1e+21`, `1e-05`) and as Go's JSON encoder writes it.
fn go_float(f: f64) -> (String, Value) {
    let abs = f.abs();
    let text = if f.is_finite() && f != 0.0 && !(1e-4..1e21).contains(&abs) {
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
        format!("{mantissa}e{sign}{digits:0>2}")
    } else {
        format!("{f}")
    };
    // Integral values within f64's exact range serialize without a fraction, as Go's encoder does.
    let value = if f.fract() == 0.0 && abs < 9_007_199_254_740_992.0 { json!(f as i64) } else { json!(f) };
    (text, value)
}

/// The first pair of equal items, as ory/jsonschema reports it.
fn first_duplicate(items: &[Value]) -> (usize, usize) {
    for j in 1..items.len() {
        if let Some(i) = items[..j].iter().position(|x| x == &items[j]) {
            return (i, j);
        }
    }
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_matches_go_verb_v() {
        assert_eq!(go_float(5.0), ("5".to_owned(), json!(5)));
        assert_eq!(go_float(0.5), ("0.5".to_owned(), json!(0.5)));
        assert_eq!(go_float(1e21).0, "1e+21");
        assert_eq!(go_float(0.00001).0, "1e-05");
        assert_eq!(go_float(-3.25), ("-3.25".to_owned(), json!(-3.25)));
    }

    #[test]
    fn duplicates_and_quoting() {
        assert_eq!(first_duplicate(&[json!(1), json!(2), json!(1)]), (0, 2));
        assert_eq!(go_quote("^a\\d\""), r#""^a\\d\"""#);
        let e = TraitError::new("#/traits/email", ID_GENERIC, "taken", json!({"reason": "taken"}));
        assert_eq!(e.field.as_deref(), Some("traits.email"));
        assert_eq!(e.reason(), "I[#/traits/email] S[#] taken");
        assert_eq!(TraitError::new("#", ID_GENERIC, "x", Value::Null).field, None);
    }
}
