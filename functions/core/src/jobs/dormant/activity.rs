//! Which sign-in date counts as activity (REFERENCE.md §1; Graph docs `resources/signinactivity.md`).
//!
//! `lastSignInDateTime` and `lastNonInteractiveSignInDateTime` record *attempts*, failed ones included, so a
//! password-spray victim looks active on them (Entra docs `howto-manage-inactive-user-accounts.md`). The default
//! signal is `lastSuccessfulSignInDateTime`, which Graph records only for sign-ins since 2023-12-01 and never
//! backfilled: where it is absent and the attempts predate that date, the attempts are the best evidence left.

use chrono::{DateTime, TimeZone, Utc};

use crate::config::ActivitySignal;
use crate::graph::model::SignInActivity;

/// Since when Graph records `lastSuccessfulSignInDateTime` (Graph docs `resources/signinactivity.md`).
pub fn success_tracking_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 12, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// What the account's sign-in record says, under the configured signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// The last sign-in that counts as activity; `None` when there is none (never, in any of its shapes).
    pub last: Option<DateTime<Utc>>,
    /// `last` is an attempt date used because no success was recorded and the attempts predate 2023-12-01.
    pub fell_back_to_attempts: bool,
    /// The latest attempt (interactive or not), whether it succeeded or not.
    pub last_attempt: Option<DateTime<Utc>>,
}

impl Activity {
    pub fn of(record: Option<&SignInActivity>, signal: ActivitySignal) -> Activity {
        let empty = SignInActivity::default();
        let record = record.unwrap_or(&empty);
        let last_attempt = record.last_sign_in.max(record.last_non_interactive_sign_in);
        let success = record.last_successful_sign_in;
        match signal {
            ActivitySignal::AnyAttempt => Activity {
                last: last_attempt.max(success),
                fell_back_to_attempts: false,
                last_attempt,
            },
            ActivitySignal::Successful => match (success, last_attempt) {
                (Some(at), _) => Activity {
                    last: Some(at),
                    fell_back_to_attempts: false,
                    last_attempt,
                },
                (None, Some(attempt)) if attempt < success_tracking_start() => Activity {
                    last: Some(attempt),
                    fell_back_to_attempts: true,
                    last_attempt,
                },
                (None, _) => Activity {
                    last: None,
                    fell_back_to_attempts: false,
                    last_attempt,
                },
            },
        }
    }

    /// Attempts inside the inactivity window that did not count as activity: under the successful signal, sign-in
    /// attempts newer than `cutoff` when no success is newer than it (the pattern of a password-spray target).
    pub fn failed_attempts_since(&self, cutoff: DateTime<Utc>) -> bool {
        self.last_attempt.is_some_and(|attempt| attempt > cutoff)
            && self.last.is_none_or(|last| last <= cutoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn record(interactive: Option<&str>, success: Option<&str>) -> SignInActivity {
        SignInActivity {
            last_sign_in: interactive.map(at),
            last_successful_sign_in: success.map(at),
            ..SignInActivity::default()
        }
    }

    #[test]
    fn successful_signal_ignores_newer_failed_attempts() {
        let r = record(Some("2026-11-20T00:00:00Z"), Some("2026-01-01T00:00:00Z"));
        let a = Activity::of(Some(&r), ActivitySignal::Successful);
        assert_eq!(a.last, Some(at("2026-01-01T00:00:00Z")));
        assert!(a.failed_attempts_since(at("2026-08-01T00:00:00Z")));
        let any = Activity::of(Some(&r), ActivitySignal::AnyAttempt);
        assert_eq!(any.last, Some(at("2026-11-20T00:00:00Z")));
        assert!(!any.failed_attempts_since(at("2026-08-01T00:00:00Z")));
    }

    #[test]
    fn attempts_before_success_tracking_began_are_the_fallback() {
        let old = record(Some("2023-06-01T00:00:00Z"), None);
        let a = Activity::of(Some(&old), ActivitySignal::Successful);
        assert_eq!(a.last, Some(at("2023-06-01T00:00:00Z")));
        assert!(a.fell_back_to_attempts);
        let recent = record(Some("2024-06-01T00:00:00Z"), None);
        let b = Activity::of(Some(&recent), ActivitySignal::Successful);
        assert_eq!(b.last, None);
        assert!(!b.fell_back_to_attempts);
    }

    #[test]
    fn missing_record_is_never() {
        let a = Activity::of(None, ActivitySignal::AnyAttempt);
        assert_eq!((a.last, a.last_attempt), (None, None));
    }
}
