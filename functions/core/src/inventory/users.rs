//! Users and guests, streamed: each `/users` page (with `signInActivity`) is joined with the registration report
//! (`userRegistrationDetails`) and written before the next page is read.
//!
//! The join is a bounded map, not a load of either listing: the two listings are read in turns, each row waits
//! in a window of at most [`JOIN_WINDOW`] unmatched rows per side until its partner arrives, and a row pushed out
//! of a full window goes on without it (a user row then has its MFA columns empty, and a note counts them).
//! When both listings come in the same order (the emulator's, and Graph's object order as far as we have seen),
//! each window holds about one page. Memory is O(JOIN_WINDOW + one page), whatever the tenant's size.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use super::findings::FindingIndex;
use super::row::{IdentityRow, Kind};
use super::{Emit, InventoryError};
use crate::graph::model::{User, UserRegistrationDetails};
use crate::graph::{
    Family, GraphError, GraphPort, UserQuery, USERS_WITH_SIGN_IN_ACTIVITY_PAGE, USER_PROPERTIES,
};
use crate::jobs::dormant::populations::{Privilege, PrivilegedHolders};
use crate::progress::{Extent, Task};

/// Unmatched rows held per side of the join.
pub const JOIN_WINDOW: usize = 20_000;

/// Rows waiting for their partner, oldest first. Ids are lower case.
struct Window<T> {
    rows: HashMap<String, T>,
    order: VecDeque<String>,
    size: usize,
}

impl<T> Window<T> {
    fn new(size: usize) -> Self {
        Window {
            rows: HashMap::new(),
            order: VecDeque::new(),
            size,
        }
    }

    fn take(&mut self, id: &str) -> Option<T> {
        // The id stays in `order` and is skipped when it reaches the front: O(1) here.
        self.rows.remove(id)
    }

    /// Holds `row`; returns the oldest row if the window is now over its size.
    fn hold(&mut self, id: String, row: T) -> Option<T> {
        self.order.push_back(id.clone());
        self.rows.insert(id, row);
        if self.rows.len() > self.size {
            return self.pop_oldest();
        }
        // Drop ids of rows taken meanwhile, so `order` stays bounded too.
        while self
            .order
            .front()
            .is_some_and(|front| !self.rows.contains_key(front))
        {
            self.order.pop_front();
        }
        None
    }

    fn pop_oldest(&mut self) -> Option<T> {
        while let Some(id) = self.order.pop_front() {
            if let Some(row) = self.rows.remove(&id) {
                return Some(row);
            }
        }
        None
    }

    fn len(&self) -> usize {
        self.rows.len()
    }
}

#[derive(PartialEq)]
enum Listing {
    More(Option<String>),
    Done,
    /// Not readable (permission or licence): the columns it fills stay empty.
    Unavailable,
}

/// What the rows of users need besides the users themselves.
pub(super) struct UserContext<'a> {
    pub graph: &'a dyn GraphPort,
    pub holders: &'a PrivilegedHolders,
    pub findings: &'a FindingIndex,
    pub now: DateTime<Utc>,
    /// Unmatched rows held per side: [`JOIN_WINDOW`] (smaller in tests).
    pub window: usize,
}

fn privilege_label(p: &Privilege) -> String {
    match p {
        Privilege::Direct(role) => format!("active: {role}"),
        Privilege::ThroughGroup { group, role } => format!("via group {group}: {role}"),
        Privilege::Eligible(role) => format!("eligible: {role}"),
        Privilege::EligibleThroughGroup { group, access } => {
            format!("eligible via group {group} ({access})")
        }
    }
}

impl UserContext<'_> {
    fn row(&self, user: &User, activity_read: bool) -> IdentityRow {
        let guest = user
            .user_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("guest"));
        // SPEC.md: users' last successful activity is `lastSuccessfulSignInDateTime` (REFERENCE.md §1: the other
        // two count failed attempts too).
        let last = user
            .sign_in_activity
            .as_ref()
            .and_then(|a| a.last_successful_sign_in);
        let id = user.id.to_ascii_lowercase();
        IdentityRow {
            kind: Some(if guest { Kind::Guest } else { Kind::Member }),
            name: user
                .user_principal_name
                .clone()
                .or_else(|| user.display_name.clone())
                .unwrap_or_else(|| user.id.clone()),
            display_name: user.display_name.clone(),
            app_id: None,
            enabled: user.account_enabled,
            created: user.created_date_time,
            last_activity: last,
            days_inactive: last.map(|at| IdentityRow::days_since(at, self.now)),
            activity_read,
            privileged_roles: self
                .holders
                .of(&id)
                .or_else(|| self.holders.of(&user.id))
                .into_iter()
                .flatten()
                .map(privilege_label)
                .collect(),
            mfa_registered: None,
            methods: Vec::new(),
            credentials: None,
            nearest_expiry: None,
            synced: Some(user.on_premises_sync_enabled == Some(true)),
            first_party: false,
            findings: self.findings.of(&id, None),
            id,
        }
    }
}

fn with_registration(mut row: IdentityRow, reg: UserRegistrationDetails) -> IdentityRow {
    row.mfa_registered = reg.is_mfa_registered;
    row.methods = reg.methods_registered;
    row
}

/// Where the user listing reports how far it is.
pub(super) struct Progress<'a> {
    pub task: &'a Task,
    /// The directory's user count, when it was read.
    pub total: Option<u64>,
}

impl Progress<'_> {
    /// `done` users listed; the rest's time is what Graph's budget says the remaining `signInActivity` pages take
    /// (each is also a reports request; the registration report's pages are half as many).
    fn report(&self, graph: &dyn GraphPort, done: u64) {
        let Some(total) = self.total else {
            self.task.report(done, Extent::Unknown, None);
            return;
        };
        let pages = total
            .saturating_sub(done)
            .div_ceil(u64::from(USERS_WITH_SIGN_IN_ACTIVITY_PAGE));
        let time_left = graph.budget_time(&[Family::Reports, Family::SignInActivity], pages);
        self.task
            .report(done, Extent::Exact(total.max(done)), time_left);
    }
}

/// Streams every user to `emit`; returns how many.
pub(super) async fn stream(
    ctx: &UserContext<'_>,
    emit: &mut Emit<'_>,
    progress: &Progress<'_>,
    notes: &mut Vec<String>,
) -> Result<u64, InventoryError> {
    let mut query = UserQuery::default();
    let mut activity_read = true;
    let mut users = Listing::More(None);
    let mut registrations = Listing::More(None);
    let mut waiting_users: Window<IdentityRow> = Window::new(ctx.window);
    let mut waiting_registrations: Window<UserRegistrationDetails> = Window::new(ctx.window);
    let (mut written, mut unmatched_users, mut dropped_registrations) = (0u64, 0u64, 0u64);
    let mut evicted_users = 0u64;
    let mut listed = 0u64;
    loop {
        // Registrations are read while they can still meet a user (not once every user is written), and only
        // while their window has room for a page: reading ahead must never push out the rows the next users need.
        let read_registrations = matches!(registrations, Listing::More(_))
            && if users == Listing::Done {
                !waiting_users.rows.is_empty()
            } else {
                waiting_registrations.len() <= waiting_users.len()
                    && waiting_registrations.len() < (ctx.window / 2).max(1)
            };
        if read_registrations {
            let Listing::More(link) = &registrations else {
                unreachable!()
            };
            match ctx
                .graph
                .list_user_registration_details(link.as_deref())
                .await
            {
                Ok(page) => {
                    registrations = page
                        .next_link
                        .map_or(Listing::Done, |l| Listing::More(Some(l)));
                    for reg in page.items {
                        let id = reg.id.to_ascii_lowercase();
                        match waiting_users.take(&id) {
                            Some(row) => {
                                emit(with_registration(row, reg))?;
                                written += 1;
                            }
                            None => {
                                if waiting_registrations.hold(id, reg).is_some() {
                                    dropped_registrations += 1;
                                }
                            }
                        }
                    }
                }
                Err(GraphError::PermissionMissing { permission, .. }) => {
                    notes.push(format!(
                        "MFA registration empty: the registration report needs {permission}"
                    ));
                    registrations = Listing::Unavailable;
                }
                Err(GraphError::LicenceRequired { needs, .. }) => {
                    notes.push(format!(
                        "MFA registration empty: the registration report needs {needs}"
                    ));
                    registrations = Listing::Unavailable;
                }
                Err(e) => return Err(e.into()),
            }
            if registrations != Listing::Unavailable {
                continue;
            }
        }
        if let Listing::More(link) = &users {
            let page = match ctx.graph.list_users(&query, link.as_deref()).await {
                Ok(page) => page,
                Err(GraphError::PermissionMissing { permission, .. })
                    if link.is_none() && activity_read =>
                {
                    notes.push(format!(
                        "last activity empty: signInActivity needs {permission}"
                    ));
                    query = without_activity();
                    activity_read = false;
                    continue;
                }
                Err(GraphError::LicenceRequired { needs, .. })
                    if link.is_none() && activity_read =>
                {
                    notes.push(format!("last activity empty: signInActivity needs {needs}"));
                    query = without_activity();
                    activity_read = false;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            users = page
                .next_link
                .map_or(Listing::Done, |l| Listing::More(Some(l)));
            if !page.malformed.is_empty() {
                notes.push(format!(
                    "{} user records did not parse (e.g. {}): not in the inventory",
                    page.malformed.len(),
                    page.malformed[0].id.as_deref().unwrap_or("(no id)")
                ));
            }
            listed += page.items.len() as u64;
            progress.report(ctx.graph, listed);
            for user in &page.items {
                let row = ctx.row(user, activity_read);
                // "This method doesn't work for disabled users" (Graph docs
                // `authenticationmethodsroot-list-userregistrationdetails.md`): no row will come for them.
                if registrations == Listing::Unavailable || row.enabled == Some(false) {
                    emit(row)?;
                    written += 1;
                    continue;
                }
                match waiting_registrations.take(&row.id) {
                    Some(reg) => {
                        emit(with_registration(row, reg))?;
                        written += 1;
                    }
                    // The report is read to its end: this user has no row in it (or its row was set aside).
                    None if registrations == Listing::Done => {
                        unmatched_users += 1;
                        emit(row)?;
                        written += 1;
                    }
                    None => {
                        let id = row.id.clone();
                        if let Some(old) = waiting_users.hold(id, row) {
                            unmatched_users += 1;
                            evicted_users += 1;
                            emit(old)?;
                            written += 1;
                        }
                    }
                }
            }
            continue;
        }
        break;
    }
    while let Some(row) = waiting_users.pop_oldest() {
        unmatched_users += u64::from(registrations != Listing::Unavailable);
        emit(row)?;
        written += 1;
    }
    // Only enabled users wait for a row, so `unmatched_users` counts enabled users without one: an account the
    // report has not covered yet, or one whose row was set aside because the listings' orders differ.
    if dropped_registrations + evicted_users > 0 {
        notes.push(format!(
            "{unmatched_users} enabled users written without their MFA registration: the two listings came in \
             orders more than {} rows apart ({evicted_users} user and {dropped_registrations} registration rows pushed \
             out of the join window)",
            ctx.window
        ));
    } else if unmatched_users > 0 {
        notes.push(format!(
            "{unmatched_users} enabled users have no row in the registration report: their MFA columns are empty"
        ));
    }
    Ok(written)
}

fn without_activity() -> UserQuery {
    UserQuery {
        select: USER_PROPERTIES
            .iter()
            .filter(|p| **p != "signInActivity")
            .map(|p| p.to_string())
            .collect(),
        ..UserQuery::default()
    }
}

#[cfg(test)]
#[path = "users_tests.rs"]
mod tests;
