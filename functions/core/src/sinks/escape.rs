//! Making tenant-derived text inert in the chat sinks (SPEC.md "Alerts": tenant text can never mention a
//! channel, open a link or change formatting in Slack or Teams).
//!
//! Whatever an alert repeats from the tenant (display names, UPNs, app names, failure reasons,
//! user agents, titles built from them, even the configured tenant name) is chosen by someone
//! else: anyone who may rename an app registration or edit their own profile picks it. Rendered as
//! markup, it could notify a whole channel (`<!channel>`), plant a phishing link inside a
//! security alert (`<https://x|Reset your password>`, `[Reset](https://x)`) or restyle the alert.
//! So the chat sinks never put it where the receiver parses markup:
//!
//! - Slack: `mrkdwn` treats `&`, `<` and `>` as control characters, which must be sent as
//!   `&amp;`, `&lt;`, `&gt;` to show literally, and has no escape at all for `*`, `_`, `~` or
//!   `` ` `` (Slack API docs, "Formatting text for app surfaces", section "Escaping text"). Tenant
//!   text therefore goes only into `plain_text` objects with `emoji: false` ([`slack_plain`]). The
//!   mrkdwn the message still has carries our own text, plus the notification fallback `text`
//!   ([`slack_escape_mrkdwn`]) and our `<href|text>` links, whose href may hold Graph ids and is
//!   percent-encoded so that it cannot end the link early ([`slack_link`]).
//! - Teams: `TextBlock` and `FactSet` titles and values parse a Markdown subset (Teams docs, "Text
//!   formatting in cards"), while `TextRun.text` does not ("Markdown is not supported", Adaptive
//!   Cards schema explorer, TextRun, introduced in 1.2). Tenant text goes only into `TextRun`s.
//! - Both: a client might still auto-link a bare URL inside plain text (not confirmed either way
//!   for Slack `plain_text` or Teams `TextRun`), so URL schemes in tenant text are defanged,
//!   `https://` to `hxxps://` ([`defang`]): SOC analysts know the convention and can undo it by hand.

use serde_json::{json, Value};

use super::truncate;

/// Rewrites `http://` and `https://` (any case) to `hxxp://` and `hxxps://`, so no client turns
/// them into links. The output never contains either scheme, so defanging twice changes nothing.
pub fn defang(text: &str) -> String {
    // ASCII lowercasing keeps every byte offset, so matches in `lower` index `text` as well.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len() + 8);
    let mut copied = 0;
    for (at, _) in lower.match_indices("http") {
        let after = &lower[at + 4..];
        let replacement = if after.starts_with("://") {
            "hxxp://"
        } else if after.starts_with("s://") {
            "hxxps://"
        } else {
            continue;
        };
        out.push_str(&text[copied..at]);
        out.push_str(replacement);
        copied = at + replacement.len();
    }
    out.push_str(&text[copied..]);
    out
}

/// Tenant text as it may be shown in a non-parsing text field: defanged, then cut to `max`
/// characters (after defanging, which lengthens it, so the limit holds for what is sent).
pub fn inert(text: &str, max: usize) -> String {
    truncate(&defang(text), max)
}

/// A Slack `plain_text` object for tenant text. `emoji: false` also keeps `:shortcode:`s literal.
pub fn slack_plain(text: &str, max: usize) -> Value {
    json!({"type": "plain_text", "text": inert(text, max), "emoji": false})
}

/// Slack's documented escaping for text parsed as mrkdwn: `&`, `<`, `>` become HTML entities,
/// and nothing else is encoded (Slack decodes only those three).
pub fn slack_escape_mrkdwn(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes the characters that would let an id inside a URL end a Slack `<href|text>`
/// link (`|`, `<`, `>`) or the URL itself (whitespace, control characters). Everything else is
/// left as it is, so a normal URL, including its existing `%XX` escapes, is unchanged.
pub fn encode_href(href: &str) -> String {
    let mut out = String::with_capacity(href.len());
    for c in href.chars() {
        if matches!(c, '|' | '<' | '>') || c.is_whitespace() || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Our own link as Slack mrkdwn, `<href|text>`, with an href that cannot break out and the text
/// escaped (a `>` in it would otherwise close the link).
pub fn slack_link(href: &str, text: &str) -> String {
    format!(
        "<{}|{}>",
        slack_escape_mrkdwn(&encode_href(href)),
        slack_escape_mrkdwn(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_schemes_are_defanged_in_any_case_and_the_rest_is_kept() {
        assert_eq!(
            defang("see https://evil.example/x and HTTP://Evil.example"),
            "see hxxps://evil.example/x and hxxp://Evil.example"
        );
        assert_eq!(defang("hTtPs://a"), "hxxps://a");
        assert_eq!(
            defang("http, https:, httpx://, Ünïcödé"),
            "http, https:, httpx://, Ünïcödé"
        );
    }

    #[test]
    fn defanging_leaves_no_scheme_behind_and_is_idempotent() {
        for s in [
            "hthttp://tp://x",
            "https://https://",
            "httphttps://",
            "http://http://",
        ] {
            let once = defang(s);
            assert!(!once.to_lowercase().contains("http://"), "{once}");
            assert!(!once.to_lowercase().contains("https://"), "{once}");
            assert_eq!(defang(&once), once);
        }
    }

    #[test]
    fn inert_text_is_cut_after_defanging() {
        let t = inert(&format!("{}https://x", "a".repeat(10)), 12);
        assert_eq!(t.chars().count(), 12);
        assert!(t.starts_with("aaaaaaaaaah") && t.ends_with('…'));
    }

    #[test]
    fn slack_plain_objects_disable_emoji_and_defang() {
        let v = slack_plain("<!channel> :tada: https://x", 100);
        assert_eq!(v["type"], "plain_text");
        assert_eq!(v["emoji"], false);
        assert_eq!(v["text"], "<!channel> :tada: hxxps://x");
    }

    #[test]
    fn mrkdwn_escaping_turns_only_the_three_control_characters_into_entities() {
        assert_eq!(
            slack_escape_mrkdwn("<!channel> & <@U1> &amp; \"'*_"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt; &amp;amp; \"'*_"
        );
    }

    #[test]
    fn hrefs_cannot_end_the_link_or_the_url_early() {
        let h = encode_href("https://e.example/#/userId/a|<!channel> b>\tc\nd\u{a0}e");
        assert_eq!(
            h,
            "https://e.example/#/userId/a%7C%3C!channel%3E%20b%3E%09c%0Ad%C2%A0e"
        );
        let plain = "https://entra.microsoft.com/#view/X/~/SignIns/userId/9f1d-%41";
        assert_eq!(encode_href(plain), plain);
    }

    #[test]
    fn slack_links_escape_ampersands_and_the_link_text() {
        assert_eq!(
            slack_link("https://e.example/?a=1&b=2|x", "Log <1> & more"),
            "<https://e.example/?a=1&amp;b=2%7Cx|Log &lt;1&gt; &amp; more>"
        );
    }
}
