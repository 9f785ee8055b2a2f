//! Evaluating a parsed `$filter` against a Graph object, and walking its predicates so each endpoint can
//! refuse what Graph would refuse.

use super::filter::{Expr, Lit, Op};
use serde_json::Value;
use std::cmp::Ordering;

/// Calls `check` on every predicate (comparison, `in`, `startswith`, `any`) of `e`.
pub fn each_predicate<'a>(
    e: &'a Expr,
    check: &mut dyn FnMut(&'a Expr) -> Result<(), String>,
) -> Result<(), String> {
    match e {
        Expr::And(v) | Expr::Or(v) => v.iter().try_for_each(|x| each_predicate(x, check)),
        Expr::Not(x) => each_predicate(x, check),
        _ => check(e),
    }
}

/// The property path a predicate is about.
pub fn predicate_path(e: &Expr) -> Option<&[String]> {
    match e {
        Expr::Cmp { path, .. }
        | Expr::In { path, .. }
        | Expr::StartsWith { path, .. }
        | Expr::Any { path, .. } => Some(path),
        _ => None,
    }
}

fn child<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    let obj = v.as_object()?;
    // Graph field case is not always as documented (`Type` in audit targets): fall back to any case.
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn lookup<'v>(
    path: &[String],
    root: &'v Value,
    bound: Option<(&str, &'v Value)>,
) -> Option<&'v Value> {
    let (mut cur, rest) = match (bound, path.split_first()) {
        (Some((var, val)), Some((first, rest))) if first == var => (val, rest),
        _ => (root, path),
    };
    for key in rest {
        cur = child(cur, key)?;
    }
    Some(cur)
}

/// Missing, `null` and `""` all mean "no value" (the "never" shapes of signInActivity).
fn is_empty(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null)) || v.and_then(Value::as_str) == Some("")
}

fn compare(v: Option<&Value>, lit: &Lit) -> Option<Ordering> {
    let v = v?;
    match lit {
        Lit::DateTime(t) => crate::timefmt::parse(v.as_str()?).map(|x| x.cmp(t)),
        Lit::Str(s) => Some(
            v.as_str()?
                .to_ascii_lowercase()
                .cmp(&s.to_ascii_lowercase()),
        ),
        Lit::Int(n) => Some(v.as_i64()?.cmp(n)),
        Lit::Bool(b) => Some(v.as_bool()?.cmp(b)),
        Lit::Null => None,
    }
}

fn cmp_matches(v: Option<&Value>, op: Op, lit: &Lit) -> bool {
    if *lit == Lit::Null {
        return match op {
            Op::Eq => is_empty(v),
            Op::Ne => !is_empty(v),
            _ => false,
        };
    }
    let ord = compare(v, lit);
    match op {
        Op::Eq => ord == Some(Ordering::Equal),
        Op::Ne => ord != Some(Ordering::Equal),
        Op::Gt => ord == Some(Ordering::Greater),
        Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        Op::Lt => ord == Some(Ordering::Less),
        Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
    }
}

pub fn matches(e: &Expr, root: &Value) -> bool {
    eval(e, root, None)
}

fn eval(e: &Expr, root: &Value, bound: Option<(&str, &Value)>) -> bool {
    match e {
        Expr::And(v) => v.iter().all(|x| eval(x, root, bound)),
        Expr::Or(v) => v.iter().any(|x| eval(x, root, bound)),
        Expr::Not(x) => !eval(x, root, bound),
        Expr::Cmp { path, op, value } => cmp_matches(lookup(path, root, bound), *op, value),
        Expr::In { path, values } => {
            let v = lookup(path, root, bound);
            values.iter().any(|l| cmp_matches(v, Op::Eq, l))
        }
        Expr::StartsWith { path, prefix } => lookup(path, root, bound)
            .and_then(Value::as_str)
            .is_some_and(|s| {
                s.to_ascii_lowercase()
                    .starts_with(&prefix.to_ascii_lowercase())
            }),
        Expr::Any { path, var, body } => match lookup(path, root, bound) {
            Some(Value::Array(items)) => items
                .iter()
                .any(|item| eval(body, root, Some((var.as_str(), item)))),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::filter::parse;
    use super::*;
    use serde_json::json;

    #[test]
    fn never_shapes_match_eq_null_and_no_date_range() {
        let e = parse("signInActivity/lastSignInDateTime eq null").expect("parses");
        let r = parse("signInActivity/lastSignInDateTime le 2026-01-01T00:00:00Z").expect("parses");
        for never in [
            json!({}),
            json!({"signInActivity": {"lastSignInDateTime": ""}}),
            json!({"signInActivity": {"lastSignInDateTime": null}}),
        ] {
            assert!(matches(&e, &never), "{never}");
            assert!(!matches(&r, &never), "{never}");
        }
        let old = json!({"signInActivity": {"lastSignInDateTime": "2025-06-01T00:00:00Z"}});
        assert!(matches(&r, &old) && !matches(&e, &old));
    }

    #[test]
    fn any_binds_the_lambda_variable() {
        let audit = json!({"targetResources": [{"id": "a"}, {"id": "B"}]});
        assert!(matches(
            &parse("targetResources/any(t:t/id eq 'b')").expect("parses"),
            &audit
        ));
        assert!(!matches(
            &parse("targetResources/any(x: x/id eq 'c')").expect("parses"),
            &audit
        ));
        let s = json!({"signInEventTypes": ["nonInteractiveUser"]});
        assert!(matches(
            &parse("signInEventTypes/any(t: t eq 'nonInteractiveUser')").expect("parses"),
            &s
        ));
    }
}
