//! Which `$filter` expressions `GET /users` accepts (Graph docs `api/user-list`, `resources/signinactivity`,
//! `aad-advanced-queries`): what Graph refuses is refused here, with `Request_UnsupportedQuery`.

use crate::errors::GraphError;
use crate::odata::eval::{each_predicate, predicate_path};
use crate::odata::{Expr, Lit, Op, Version};

const SIA_FIELDS: [&str; 3] = [
    "lastSignInDateTime",
    "lastNonInteractiveSignInDateTime",
    "lastSuccessfulSignInDateTime",
];

fn is_sia(path: &[String]) -> bool {
    path.first()
        .is_some_and(|p| p.eq_ignore_ascii_case("signInActivity"))
}

/// Refuses filters Graph refuses (Graph docs `api/user-list`, "signInActivity ... cannot be combined").
pub(crate) fn check_filter(e: &Expr, version: Version) -> Result<bool, GraphError> {
    let (mut sia, mut other) = (false, false);
    each_predicate(e, &mut |p| {
        let path = predicate_path(p).unwrap_or_default();
        if is_sia(path) {
            sia = true;
            let field = match path {
                [_, f] if SIA_FIELDS.contains(&f.as_str()) => f.as_str(),
                _ => return Err(format!("filtering on {} is not supported", path.join("/"))),
            };
            if field == "lastSuccessfulSignInDateTime" && version == Version::V1 {
                return Err("lastSuccessfulSignInDateTime can be filtered on beta only".into());
            }
            return match p {
                Expr::Cmp {
                    op: Op::Eq | Op::Ne | Op::Ge | Op::Le,
                    value: Lit::DateTime(_) | Lit::Null,
                    ..
                } => Ok(()),
                _ => {
                    Err("signInActivity supports eq, ne, ge, le (and not) with a date-time".into())
                }
            };
        }
        other = true;
        let name = path.join("/");
        let ok = matches!(
            (name.as_str(), p),
            (
                "userType" | "externalUserState",
                Expr::Cmp {
                    op: Op::Eq | Op::Ne,
                    value: Lit::Str(_),
                    ..
                },
            ) | (
                "accountEnabled" | "onPremisesSyncEnabled",
                Expr::Cmp {
                    op: Op::Eq | Op::Ne,
                    value: Lit::Bool(_) | Lit::Null,
                    ..
                },
            ) | (
                "id" | "userPrincipalName" | "mail",
                Expr::Cmp {
                    op: Op::Eq,
                    value: Lit::Str(_),
                    ..
                } | Expr::In { .. },
            ) | (
                "userPrincipalName" | "mail" | "displayName",
                Expr::StartsWith { .. }
            ) | (
                "displayName",
                Expr::Cmp {
                    op: Op::Eq,
                    value: Lit::Str(_),
                    ..
                },
            ) | (
                "createdDateTime",
                Expr::Cmp {
                    op: Op::Ge | Op::Le | Op::Gt | Op::Lt | Op::Eq,
                    value: Lit::DateTime(_),
                    ..
                },
            )
        );
        if ok {
            Ok(())
        } else {
            Err(format!("the filter on '{name}' is not supported"))
        }
    })
    .map_err(|m| {
        GraphError::unsupported_query(format!(
            "Unsupported or invalid query filter clause specified: {m}."
        ))
    })?;
    if sia && other {
        return Err(GraphError::unsupported_query(
            "Filter on signInActivity cannot be combined with other filterable properties.",
        ));
    }
    Ok(sia)
}

/// Whether `e` asks for users with no successful sign-in (`lastSuccessfulSignInDateTime eq null`).
pub(crate) fn asks_never_succeeded(e: &Expr) -> bool {
    let mut found = false;
    let _ = each_predicate(e, &mut |p| {
        if let Expr::Cmp {
            path,
            op: Op::Eq,
            value: Lit::Null,
        } = p
        {
            found |= is_sia(path)
                && path
                    .get(1)
                    .is_some_and(|f| f.eq_ignore_ascii_case("lastSuccessfulSignInDateTime"));
        }
        Ok(())
    });
    found
}

/// A user the lossy `eq null` fault leaves out: its signInActivity has no `lastSuccessfulSignInDateTime` at all.
pub(crate) fn lacks_success_property(user: &serde_json::Value) -> bool {
    user.get("signInActivity")
        .and_then(|a| a.get("lastSuccessfulSignInDateTime"))
        .is_none()
}
