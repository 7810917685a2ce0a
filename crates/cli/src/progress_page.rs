//! `djedge progress --html FILE`: the progress figures as one self-contained
//! page. Inline SVG charts, inline CSS, no script, and a Content Security
//! Policy that lets the page fetch nothing at all; every chart has its
//! figures as text beside it (a caption and a table), for screen readers
//! and for copying.

use std::fmt::Write as _;

use djedge_migration::{Count, MigrationProgress};
use djedge_snapshot::UserEntry;

/// The page for `progress`, generated at `generated` (RFC 3339).
pub(crate) fn render(progress: &MigrationProgress, generated: &str) -> String {
    let moved = if progress.auth0.is_some() { "in Auth0" } else { "migrated through the edge" };
    let total = &progress.total;
    let mut page = String::new();
    page.push_str(concat!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        "<title>djedge: migration progress</title>\n<style>\n",
        "body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}\n",
        "h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2.5rem}figure{margin:1rem 0}\n",
        "figcaption{margin:.5rem 0;color:#333}table{border-collapse:collapse;margin:.5rem 0}\n",
        "td,th{padding:.2rem .8rem;border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right}\n",
        "svg text{font:13px system-ui,sans-serif;fill:#1a1a1a}.bar{fill:#3567b5}.rest{fill:#dde4f0}\n",
        ".line{fill:none;stroke:#3567b5;stroke-width:2}.axis{stroke:#888}.dot{fill:#3567b5}\n",
        "</style>\n</head>\n<body>\n<h1>Migration progress</h1>\n",
    ));
    let _ = writeln!(
        page,
        "<p id=\"summary\"><strong>{} of {} active users ({}%) are {moved}.</strong> Generated {}.</p>",
        total.migrated,
        total.active,
        total.percent,
        escape(generated)
    );

    page.push_str("<h2>Over time</h2>\n");
    over_time(&mut page, progress, moved);
    page.push_str("<h2>By hash format</h2>\n");
    let formats: Vec<(String, &Count)> = progress.by_format.iter().map(|(k, v)| (k.clone(), v)).collect();
    bars(&mut page, "by-format", &format!("Active users {moved}, by the Django hash format."), &formats);
    page.push_str("<h2>By last Django login</h2>\n");
    let logins: Vec<(String, &Count)> = progress.by_last_login.iter().map(|(k, v)| (k.clone(), v)).collect();
    bars(
        &mut page,
        "by-last-login",
        &format!("Active users {moved}, by how long ago they last logged in to Django."),
        &logins,
    );

    page.push_str("<h2>Needs attention</h2>\n");
    entries(
        &mut page,
        "need-reset",
        "will need a password reset (not moved, no hash Auth0 can import)",
        &progress.need_reset,
    );
    entries(
        &mut page,
        "cannot-land",
        "cannot land in Auth0 as they are (djedge audit: why, and what to do)",
        &progress.cannot_land,
    );
    if let Some(auth0) = &progress.auth0 {
        let _ = writeln!(
            page,
            "<p id=\"reconciled\">In Auth0: {} lazily, {} by bulk import, {} both; {} active users missing.</p>",
            auth0.lazily, auth0.by_bulk_import, auth0.both, auth0.missing
        );
        entries(
            &mut page,
            "inactive-in-auth0",
            "are in Auth0 but inactive in Django: Auth0 still lets them in, block them there",
            &auth0.inactive_in_auth0,
        );
        entries(
            &mut page,
            "missing-recorded",
            "are missing from Auth0 though the edge recorded their migration",
            &auth0.missing_despite_edge_record,
        );
        let _ = writeln!(
            page,
            "<p>{} Auth0 users have no Django user (deleted in Django since).</p>",
            auth0.deleted_in_django.len()
        );
    }
    page.push_str("</body>\n</html>\n");
    page
}

/// A step line of the share moved by day, with its table.
fn over_time(page: &mut String, progress: &MigrationProgress, moved: &str) {
    let points = &progress.over_time;
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        page.push_str("<p>No moves recorded yet.</p>\n");
        return;
    };
    let caption = format!(
        "Share of active users {moved}, by day: {}% on {} to {}% on {}.",
        first.percent, first.date, last.percent, last.date
    );
    let (width, height, left, bottom) = (640.0, 240.0, 48.0, 28.0);
    // Each point's x, from its day: the dates are the progress figures' own
    // (YYYY-MM-DD), so one that does not parse is a bug, said on the page.
    let day = |date: &str| time::Date::parse(date, time::macros::format_description!("[year]-[month]-[day]")).ok();
    let Some(start) = day(&first.date) else { return };
    let Some(xs) =
        points.iter().map(|p| day(&p.date).map(|d| (d - start).whole_days() as f64)).collect::<Option<Vec<f64>>>()
    else {
        page.push_str("<p>The share by day has a date that is not YYYY-MM-DD.</p>\n");
        return;
    };
    let span = xs.iter().copied().fold(1.0, f64::max);
    let xs: Vec<f64> = xs.iter().map(|days| left + (width - left - 16.0) * days / span).collect();
    let y = |percent: f64| 12.0 + (height - bottom - 12.0) * (1.0 - percent / 100.0);
    let _ = writeln!(
        page,
        "<figure id=\"over-time\"><svg role=\"img\" aria-labelledby=\"over-time-caption\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">"
    );
    let _ = writeln!(page, "<title>{}</title>", escape(&caption));
    let _ = writeln!(
        page,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
        y(0.0),
        width - 16.0,
        y(0.0)
    );
    let _ = writeln!(page, "<line class=\"axis\" x1=\"{left}\" y1=\"{}\" x2=\"{left}\" y2=\"{}\"/>", y(0.0), y(100.0));
    for percent in [0.0, 50.0, 100.0] {
        let _ = writeln!(page, "<text x=\"4\" y=\"{:.1}\">{percent}%</text>", y(percent) + 4.0);
    }
    let _ = writeln!(page, "<text x=\"{left}\" y=\"{}\">{}</text>", height - 8.0, escape(&first.date));
    let _ = writeln!(
        page,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        width - 16.0,
        height - 8.0,
        escape(&last.date)
    );
    let mut path = String::new();
    let mut previous: Option<f64> = None;
    for (point, &px) in points.iter().zip(&xs) {
        let py = y(point.percent);
        match previous {
            None => {
                let _ = write!(path, "M{px:.1},{py:.1}");
            }
            Some(before) => {
                let _ = write!(path, " L{px:.1},{before:.1} L{px:.1},{py:.1}");
            }
        }
        previous = Some(py);
    }
    let _ = writeln!(page, "<path class=\"line\" d=\"{path}\"/>");
    for (point, px) in points.iter().zip(&xs) {
        let _ = writeln!(
            page,
            "<circle class=\"dot\" cx=\"{px:.1}\" cy=\"{:.1}\" r=\"3\"><title>{}: {} ({}%)</title></circle>",
            y(point.percent),
            escape(&point.date),
            point.moved,
            point.percent
        );
    }
    let _ = writeln!(
        page,
        "<text class=\"value\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} ({}%)</text>",
        xs.iter().copied().fold(left, f64::max) - 6.0,
        y(last.percent) - 8.0,
        last.moved,
        last.percent
    );
    let _ = writeln!(page, "</svg><figcaption id=\"over-time-caption\">{}</figcaption>", escape(&caption));
    page.push_str("<table><tr><th>day</th><th>moved</th><th>share</th></tr>\n");
    for point in points {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}%</td></tr>",
            escape(&point.date),
            point.moved,
            point.percent
        );
    }
    page.push_str("</table></figure>\n");
}

/// Horizontal bars of moved/active per group, with the figures as text.
fn bars(page: &mut String, id: &str, caption: &str, groups: &[(String, &Count)]) {
    let (width, row, label) = (640.0, 26.0, 170.0);
    let height = row * groups.len() as f64 + 8.0;
    let _ = writeln!(
        page,
        "<figure id=\"{id}\"><svg role=\"img\" aria-labelledby=\"{id}-caption\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">"
    );
    let _ = writeln!(page, "<title>{}</title>", escape(caption));
    let bar_width = width - label - 150.0;
    for (n, (name, count)) in groups.iter().enumerate() {
        let top = 4.0 + row * n as f64;
        let filled = bar_width * count.percent / 100.0;
        let _ = writeln!(page, "<text x=\"0\" y=\"{:.1}\">{}</text>", top + 16.0, escape(name));
        let _ = writeln!(
            page,
            "<rect class=\"rest\" x=\"{label}\" y=\"{top:.1}\" width=\"{bar_width:.1}\" height=\"{:.1}\"/>",
            row - 8.0
        );
        let _ = writeln!(
            page,
            "<rect class=\"bar\" x=\"{label}\" y=\"{top:.1}\" width=\"{filled:.1}\" height=\"{:.1}\"/>",
            row - 8.0
        );
        let _ = writeln!(
            page,
            "<text class=\"value\" x=\"{:.1}\" y=\"{:.1}\">{} of {} ({}%)</text>",
            label + bar_width + 8.0,
            top + 16.0,
            count.migrated,
            count.active,
            count.percent
        );
    }
    let _ = writeln!(page, "</svg><figcaption id=\"{id}-caption\">{}</figcaption>", escape(caption));
    page.push_str("<table><tr><th>group</th><th>moved</th><th>active</th><th>share</th></tr>\n");
    for (name, count) in groups {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}%</td></tr>",
            escape(name),
            count.migrated,
            count.active,
            count.percent
        );
    }
    page.push_str("</table></figure>\n");
}

/// A titled list of accounts.
fn entries(page: &mut String, id: &str, title: &str, entries: &[UserEntry]) {
    let _ = writeln!(page, "<section id=\"{id}\"><p>{} users {}.</p>", entries.len(), escape(title));
    if !entries.is_empty() {
        page.push_str("<table><tr><th>id</th><th>username</th><th>why</th></tr>\n");
        for entry in entries {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&entry.id.to_string()),
                escape(&entry.username),
                escape(&entry.reason)
            );
        }
        page.push_str("</table>\n");
    }
    page.push_str("</section>\n");
}

/// Text for HTML: usernames and reasons come from the site's database.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
