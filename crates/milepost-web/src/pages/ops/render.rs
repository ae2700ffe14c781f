//! HTML of the operations dashboard, written by hand like the customer pages (`pages::render`)
//! and through the same `esc` helper: every dynamic value is escaped where it is written. Unlike
//! the customer pages these show everything staff need (raw codes, sources, advisory claims,
//! exceptions, personal details), use no branding, and show action forms only to a user whose
//! role may act. Pages work without JavaScript: filters and sorting are plain GET forms and
//! links, actions are POST forms carrying the session's CSRF token.

use crate::pages::render::{esc, url_encode};
use chrono::{DateTime, FixedOffset, Utc};
use milepost_app::notifications::NotificationRecord;
use milepost_app::records::{
    ClaimRecord, DuplicateScans, ExceptionRecord, LaneRhythmRecord, OrderRecord, OrderSummary, ReturnOfOrder,
    StaleShipment, StoredEntry, UnmappedCode,
};
use milepost_app::staff::StaffSession;
use milepost_domain::kpi::{self, KpiGrouping, OrderKpiFacts};
use milepost_domain::return_to_sender;
use milepost_domain::{Milestone, ReturnState, SourceOfTruth, TimelineEntry};
use std::fmt::Write;

use super::chart;

/// An event received this long after it happened is marked as arriving late (rule 2).
const LATE_ARRIVAL_MINUTES: i64 = 60;

const CSS: &str = "
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:.95rem;line-height:1.45;color:#1f2933;background:#f5f7fa}
a{color:#0b4f8a}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #b54708;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem}
.skip:focus{left:.5rem}
.sr{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);border:0}
header.bar{background:#102a43;color:#fff}
header.bar .wrap{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem 1.5rem;padding-top:.6rem;padding-bottom:.6rem}
header.bar a{color:#fff}
header.bar nav ul{list-style:none;margin:0;padding:0;display:flex;gap:1rem}
header.bar nav a[aria-current]{font-weight:700;text-decoration:none;border-bottom:2px solid #fff}
header.bar form{display:inline;margin:0}
header.bar button{margin:0;background:#fff;color:#102a43;min-height:32px;padding:.3rem .8rem}
.who{font-size:.85rem}
.wrap{max-width:80rem;margin:0 auto;padding:0 1rem}
main{padding-top:1rem;padding-bottom:2rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
.card{background:#fff;border:1px solid #cbd2d9;border-radius:6px;padding:1rem;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #cbd2d9;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#e4e7eb}
.counts{list-style:none;margin:0 0 1rem;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}
.counts li{background:#fff;border:1px solid #cbd2d9;border-radius:4px;padding:.25rem .6rem}
form.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin:0 0 1rem}
form.filters label,form.stack label{display:block;font-weight:600}
form.inline{display:flex;flex-wrap:wrap;gap:.25rem;margin:0 0 .25rem}
input,select{font:inherit;padding:.3rem .4rem;border:1px solid #7b8794;border-radius:4px;background:#fff;color:#1f2933}
form.stack input{width:100%;max-width:24rem;margin-bottom:.75rem}
button{font:inherit;font-weight:600;padding:.3rem .8rem;border:0;border-radius:4px;background:#0b4f8a;color:#fff;cursor:pointer;min-height:32px}
.sev-high{color:#b42318;font-weight:700}
.sev-medium{color:#7a2e0e;font-weight:600}
.late{color:#7a2e0e;font-weight:600}
.tag{display:inline-block;border-radius:3px;padding:0 .3rem;font-size:.8rem;background:#fffaeb;border:1px solid #b54708;color:#7a2e0e}
.ok{border-left:6px solid #027a48;background:#ecfdf3;padding:.6rem 1rem;margin:0 0 1rem}
.error{border-left:6px solid #b42318;background:#fef3f2;padding:.6rem 1rem;margin:0 0 1rem;color:#7a271a}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1rem;margin:0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
.muted{color:#52606d}
code{font-size:.9em}
:root{--chart-ink:#1f2933;--chart-grid:#d9e2ec;--chart-line:#0b4f8a;--chart-s0:#0b4f8a;--chart-s1:#b54708;--chart-s2:#027a48;--chart-s3:#6941c6;--chart-s4:#b42318;--chart-s5:#52606d}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,30rem),1fr));gap:1rem}
svg.chart{width:100%;height:auto;display:block}
svg.spark{vertical-align:middle}
.chart-title{font-weight:700;font-size:13px;fill:var(--chart-ink)}
.chart-tick,.chart-label{font-size:11px;fill:var(--chart-ink)}
.chart-grid{stroke:var(--chart-grid);stroke-width:1}
.chart-axis{stroke:var(--chart-ink);stroke-width:1}
.chart-line{fill:none;stroke:var(--chart-line);stroke-width:2}
.chart-dot{fill:var(--chart-line)}
.chart-bar.s0{fill:var(--chart-s0)}.chart-bar.s1{fill:var(--chart-s1)}.chart-bar.s2{fill:var(--chart-s2)}
.chart-bar.s3{fill:var(--chart-s3)}.chart-bar.s4{fill:var(--chart-s4)}.chart-bar.s5{fill:var(--chart-s5)}
@media (prefers-color-scheme:dark){
:root{--chart-ink:#e4e7eb;--chart-grid:#3e4c59;--chart-line:#7cc4fa;--chart-s0:#7cc4fa;--chart-s1:#f7b267;--chart-s2:#6ce9a6;--chart-s3:#bdb4fe;--chart-s4:#fda29b;--chart-s5:#cbd2d9}
body{background:#0f1720;color:#e4e7eb}
a{color:#7cc4fa}
.card,table,.counts li,input,select{background:#1f2933;color:#e4e7eb;border-color:#3e4c59}
th{background:#323f4b}
th,td{border-color:#3e4c59}
.muted{color:#9aa5b1}
}
";

/// Which page of the dashboard is showing, to mark it in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Queue,
    Returns,
    Orders,
    Cleanup,
    Insights,
    Login,
}

/// The frame of every dashboard page: banner with navigation and logout, then `main`.
pub fn layout(title: &str, section: Section, session: Option<&StaffSession>, main: &str) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\"><meta name=\"robots\" content=\"noindex\">\
         <title>{} · Milepost operations</title><style>{CSS}</style></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to content</a><header class=\"bar\"><div class=\"wrap\">\
         <strong>Milepost operations</strong>",
        esc(title)
    );
    if let Some(s) = session {
        html.push_str("<nav aria-label=\"Dashboard\"><ul>");
        for (href, label, which) in [
            ("/ops/exceptions", "Exception queue", Section::Queue),
            ("/ops/returns", "Returns", Section::Returns),
            ("/ops/orders", "Order search", Section::Orders),
            ("/ops/cleanup", "Data cleanup", Section::Cleanup),
            ("/ops/insights", "Insights", Section::Insights),
        ] {
            let current = if which == section { " aria-current=\"page\"" } else { "" };
            let _ = write!(html, "<li><a href=\"{href}\"{current}>{label}</a></li>");
        }
        let _ = write!(
            html,
            "</ul></nav><span class=\"who\">{} · {} ({})</span>\
             <form method=\"post\" action=\"/ops/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Log out</button></form>",
            esc(s.principal.account_name.as_str()),
            esc(&s.email),
            s.principal.role.as_str(),
            esc(&s.csrf_token)
        );
    }
    let _ = writeln!(html, "</div></header><main id=\"main\" class=\"wrap\">{main}</main></body></html>");
    html
}

/// The login form; `message` is shown above it (wrong password, too many attempts).
pub fn login_page(csrf: &str, email: &str, message: Option<&str>) -> String {
    let mut main = String::from("<h1>Log in</h1>");
    if let Some(message) = message {
        let _ = write!(main, "<div class=\"error\" role=\"alert\"><p>{}</p></div>", esc(message));
    }
    let _ = write!(
        main,
        "<div class=\"card\"><form class=\"stack\" method=\"post\" action=\"/ops/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label for=\"email\">E-mail</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{}\">\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Log in</button></form></div>",
        esc(csrf),
        esc(email)
    );
    layout("Log in", Section::Login, None, &main)
}

/// A page that only says something (forbidden, not found, unavailable).
pub fn message_page(session: Option<&StaffSession>, title: &str, message: &str) -> String {
    let main = format!("<h1>{}</h1><div class=\"error\" role=\"alert\"><p>{}</p></div>", esc(title), esc(message));
    layout(title, Section::Login, session, &main)
}

fn csrf_field(session: &StaffSession) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(&session.csrf_token))
}

fn order_link(number: &str) -> String {
    format!("<a href=\"/ops/orders/{}\">{}</a>", url_encode(number), esc(number))
}

/// "3 d 4 h", "5 h 10 min", "12 min".
pub fn age_text(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (days, hours, minutes) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60);
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {minutes} min")
    } else {
        format!("{minutes} min")
    }
}

fn time_text(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M %:z").to_string()
}

fn stored_time(raw: &str) -> String {
    DateTime::parse_from_rfc3339(raw).map(|t| time_text(&t)).unwrap_or_else(|_| raw.to_string())
}

/// What the queue page shows: filters as chosen, rows already filtered and sorted.
pub struct QueueView<'a> {
    pub state: &'a str,
    pub kind: &'a str,
    pub carrier: &'a str,
    pub sort: &'a str,
    pub counts: Vec<(String, usize)>,
    pub rows: Vec<&'a ExceptionRecord>,
    pub truncated: bool,
    pub notice: Option<String>,
    pub now: DateTime<Utc>,
}

fn select(id: &str, label: &str, chosen: &str, options: &[(&str, &str)]) -> String {
    let mut html = format!("<div><label for=\"{id}\">{label}</label><select id=\"{id}\" name=\"{id}\">");
    for (value, text) in options {
        let selected = if *value == chosen { " selected" } else { "" };
        let _ = write!(html, "<option value=\"{}\"{selected}>{}</option>", esc(value), esc(text));
    }
    html.push_str("</select></div>");
    html
}

/// The exception queue.
pub fn queue_page(session: &StaffSession, view: &QueueView<'_>) -> String {
    let mut main = String::from("<h1>Exception queue</h1>");
    if let Some(notice) = &view.notice {
        let _ = write!(main, "<div class=\"ok\" role=\"status\"><p>{}</p></div>", esc(notice));
    }
    main.push_str("<h2 id=\"counts\">Counts by kind</h2><ul class=\"counts\" aria-labelledby=\"counts\">");
    if view.counts.is_empty() {
        main.push_str("<li>No exceptions in this view</li>");
    }
    for (kind, count) in &view.counts {
        let _ = write!(
            main,
            "<li><a href=\"/ops/exceptions?state={}&amp;kind={}&amp;carrier={}&amp;sort={}\">{}</a>: {count}</li>",
            url_encode(view.state),
            url_encode(kind),
            url_encode(view.carrier),
            url_encode(view.sort),
            esc(kind)
        );
    }
    main.push_str("</ul><form class=\"filters\" method=\"get\" action=\"/ops/exceptions\">");
    main.push_str(&select(
        "state",
        "State",
        view.state,
        &[
            ("active", "Open and acknowledged"),
            ("open", "Open"),
            ("acknowledged", "Acknowledged"),
            ("resolved", "Resolved"),
        ],
    ));
    let mut kinds = vec![("", "Any kind")];
    kinds.extend(milepost_domain::exceptions::ExceptionKind::ALL.iter().map(|k| (k.as_str(), k.as_str())));
    main.push_str(&select("kind", "Kind", view.kind, &kinds));
    let _ = write!(
        main,
        "<div><label for=\"carrier\">Carrier</label><input id=\"carrier\" name=\"carrier\" value=\"{}\"></div>",
        esc(view.carrier)
    );
    main.push_str(&select(
        "sort",
        "Sort by",
        view.sort,
        &[("age", "Age, oldest first"), ("severity", "Severity, highest first")],
    ));
    main.push_str("<div><button type=\"submit\">Show</button></div></form>");
    if view.truncated {
        main.push_str("<p class=\"muted\">Showing the oldest-numbered 200 exceptions of each state; narrow the filters to see the rest.</p>");
    }
    let sort_link = |sort: &str, text: &str| {
        format!(
            "<a href=\"/ops/exceptions?state={}&amp;kind={}&amp;carrier={}&amp;sort={sort}\">{text}</a>",
            url_encode(view.state),
            url_encode(view.kind),
            url_encode(view.carrier)
        )
    };
    let _ = write!(
        main,
        "<table><caption class=\"sr\">Exceptions</caption><thead><tr><th scope=\"col\">Order</th><th scope=\"col\">Kind</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">State</th><th scope=\"col\">Parcel</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">Due</th><th scope=\"col\">Owner and note</th><th scope=\"col\">Actions</th></tr></thead><tbody>",
        sort_link("severity", "Severity"),
        sort_link("age", "Age")
    );
    if view.rows.is_empty() {
        main.push_str("<tr><td colspan=\"9\">Nothing to work on here.</td></tr>");
    }
    for e in &view.rows {
        let age = DateTime::parse_from_rfc3339(&e.opened_at)
            .map(|t| age_text((view.now - t.with_timezone(&Utc)).num_seconds()))
            .unwrap_or_default();
        let _ = write!(
            main,
            "<tr id=\"exception-{id}\"><td>{order}</td><td>{kind}{detail}</td><td class=\"sev-{sev}\">{sev}</td><td>{state}</td>\
             <td>{carrier} {tracking}</td><td>{age}<br><span class=\"muted\">since {opened}</span></td><td>{due}</td><td>{owner}{note}</td><td>",
            id = e.id,
            order = order_link(&e.order_number),
            kind = esc(&e.kind),
            detail =
                e.detail.as_deref().map(|d| format!("<br><span class=\"muted\">{}</span>", esc(d))).unwrap_or_default(),
            sev = esc(&e.severity),
            state = esc(&e.state),
            carrier = esc(e.carrier.as_deref().unwrap_or("")),
            tracking = esc(e.tracking_number.as_deref().unwrap_or("")),
            opened = esc(&stored_time(&e.opened_at)),
            due = esc(&e.due_at.as_deref().map(stored_time).unwrap_or_default()),
            owner = esc(e.owner.as_deref().unwrap_or("")),
            note =
                e.note.as_deref().map(|n| format!("<br><span class=\"muted\">{}</span>", esc(n))).unwrap_or_default(),
        );
        if session.may_act() && e.state != "resolved" {
            let action = |what: &str| format!("/ops/exceptions/{}/{what}", e.id);
            if e.state == "open" {
                let _ = write!(
                    main,
                    "<form class=\"inline\" method=\"post\" action=\"{}\">{}<button type=\"submit\" aria-label=\"Acknowledge exception {id}\">Acknowledge</button></form>",
                    action("acknowledge"),
                    csrf_field(session),
                    id = e.id
                );
            }
            let _ = write!(
                main,
                "<form class=\"inline\" method=\"post\" action=\"{}\">{}<label class=\"sr\" for=\"owner-{id}\">Owner of exception {id}</label>\
                 <input id=\"owner-{id}\" name=\"owner\" size=\"10\" required placeholder=\"owner\"><button type=\"submit\">Assign</button></form>\
                 <form class=\"inline\" method=\"post\" action=\"{}\">{}<label class=\"sr\" for=\"note-{id}\">Resolution note of exception {id}</label>\
                 <input id=\"note-{id}\" name=\"note\" size=\"14\" required placeholder=\"what was done\"><button type=\"submit\">Resolve</button></form>",
                action("assign"),
                csrf_field(session),
                action("resolve"),
                csrf_field(session),
                id = e.id
            );
        }
        main.push_str("</td></tr>");
    }
    main.push_str("</tbody></table>");
    layout("Exception queue", Section::Queue, Some(session), &main)
}

/// The order search form and its results.
pub fn search_page(session: &StaffSession, q: &str, orders: Option<&[OrderSummary]>) -> String {
    let mut main = String::from("<h1>Order search</h1>");
    let _ = write!(
        main,
        "<form class=\"filters\" role=\"search\" method=\"get\" action=\"/ops/orders\"><div><label for=\"q\">Order number, tracking number, e-mail, postal code or name</label>\
         <input id=\"q\" name=\"q\" size=\"40\" value=\"{}\"></div><div><button type=\"submit\">Search</button></div></form>",
        esc(q)
    );
    if let Some(orders) = orders {
        if orders.is_empty() {
            main.push_str("<p>No order matches.</p>");
        } else {
            main.push_str(
                "<table><caption class=\"sr\">Orders found</caption><thead><tr><th scope=\"col\">Order</th><th scope=\"col\">Status</th>\
                 <th scope=\"col\">Customer</th><th scope=\"col\">Channel</th><th scope=\"col\">Placed</th><th scope=\"col\">Parcels</th>\
                 <th scope=\"col\">Open exceptions</th></tr></thead><tbody>",
            );
            for o in orders {
                let _ = write!(
                    main,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    order_link(o.order_number.as_str()),
                    esc(o.status.as_str()),
                    esc(o.customer_name.as_deref().unwrap_or("")),
                    esc(&o.channel),
                    esc(&time_text(&o.placed_at)),
                    o.shipments,
                    o.open_exceptions
                );
            }
            main.push_str("</tbody></table>");
        }
    }
    layout("Order search", Section::Orders, Some(session), &main)
}

/// The returns queue: how many open returns wait in each state, then every one (or those of the
/// chosen state), oldest first, with its age.
pub fn returns_page(
    session: &StaffSession,
    chosen: Option<ReturnState>,
    open: &[ReturnOfOrder],
    shown: &[ReturnOfOrder],
    now: DateTime<Utc>,
) -> String {
    let mut main = String::from("<h1>Returns</h1><ul class=\"counts\">");
    for state in ReturnState::ALL.into_iter().filter(|s| s.is_open()) {
        let n = open.iter().filter(|r| r.record.state == state).count();
        let _ = write!(main, "<li><a href=\"/ops/returns?state={0}\">{0}</a>: {n}</li>", state.as_str());
    }
    main.push_str("</ul>");
    let _ = write!(main, "<h2>{}</h2>", esc(chosen.map(|s| s.as_str()).unwrap_or("All open returns")));
    if shown.is_empty() {
        main.push_str("<p>No return waits here.</p>");
    } else {
        main.push_str(
            "<table><caption class=\"sr\">Returns, oldest first</caption><thead><tr><th scope=\"col\">Return</th>\
             <th scope=\"col\">Order</th><th scope=\"col\">State</th><th scope=\"col\">Age</th><th scope=\"col\">In state for</th>\
             <th scope=\"col\">Items</th></tr></thead><tbody>",
        );
        for r in shown {
            let since = r.record.history.last().map(|s| s.at).unwrap_or(r.record.created_at);
            let items: Vec<String> =
                r.record.items.iter().map(|i| format!("{} × {} ({})", i.quantity, i.sku, i.reason.as_str())).collect();
            let _ = write!(
                main,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.record.id,
                order_link(r.order_number.as_str()),
                esc(r.record.state.as_str()),
                esc(&age_text((now - r.record.created_at).num_seconds())),
                esc(&age_text((now - since).num_seconds())),
                esc(&items.join("; "))
            );
        }
        main.push_str("</tbody></table>");
    }
    layout("Returns", Section::Returns, Some(session), &main)
}

fn fact(html: &mut String, name: &str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        let _ = write!(html, "<dt>{}</dt><dd>{}</dd>", esc(name), esc(v));
    }
}

/// One order with its one timeline: the order's own events and every parcel's, in the order
/// they happened, with raw codes, sources, advisory claims and late arrivals marked.
/// One notification as a row of the order's timeline: when it was queued, to whom and how,
/// what about, and how it ended (sent, waiting, suppressed and why, failed with the last error).
fn notification_row(n: &NotificationRecord) -> (DateTime<Utc>, String) {
    let queued = DateTime::parse_from_rfc3339(&n.created_at).map(|t| t.with_timezone(&Utc)).unwrap_or_default();
    let subject = match (&n.milestone, &n.kind) {
        (Some(m), _) => format!("notice: {}", esc(m)),
        (None, Some(k)) => {
            format!("alert: {}{}", esc(k), n.team.as_deref().map(|t| format!(" → {}", esc(t))).unwrap_or_default())
        }
        (None, None) => String::from("message"),
    };
    let outcome = match n.state.as_str() {
        "sent" => format!("sent {}", esc(&n.sent_at.as_deref().map(stored_time).unwrap_or_default())),
        "pending" => match n.next_attempt_at {
            Some(at) => format!("waiting, next try {}", esc(&at.format("%Y-%m-%d %H:%M UTC").to_string())),
            None => String::from("waiting"),
        },
        "suppressed" => format!("<span class=\"tag\">suppressed</span> {}", esc(n.last_error.as_deref().unwrap_or(""))),
        "failed" => format!("<span class=\"tag\">failed</span> {}", esc(n.last_error.as_deref().unwrap_or(""))),
        other => esc(other),
    };
    let about = if n.shipments.is_empty() { String::from("order") } else { n.shipments.join(", ") };
    let row = format!(
        "<tr class=\"notification\"><td>{}</td><td><span class=\"muted\">queued</span></td><td>{}</td><td>{subject}</td>\
         <td><code>{}</code></td><td>{outcome}</td><td>milepost → {}</td><td></td><td>{} attempt(s)</td></tr>",
        esc(&queued.format("%Y-%m-%d %H:%M UTC").to_string()),
        esc(&about),
        esc(&n.channel),
        esc(&n.audience),
        n.attempts
    );
    (queued, row)
}

pub fn order_page(
    session: &StaffSession,
    record: &OrderRecord,
    notifications: &[NotificationRecord],
    claims: &[ClaimRecord],
    now: DateTime<Utc>,
) -> String {
    let o = &record.order;
    let number = o.order_number.as_str();
    let mut main = format!("<h1>Order {}</h1><div class=\"card\"><dl class=\"facts\">", esc(number));
    fact(&mut main, "Status", Some(record.status.as_str()));
    fact(&mut main, "Channel", Some(o.channel.as_str()));
    fact(&mut main, "Placed", Some(&time_text(&o.placed_at)));
    fact(&mut main, "Promised by", o.promised_by.as_ref().map(time_text).as_deref());
    fact(&mut main, "Customer", o.customer.name.as_deref());
    fact(&mut main, "E-mail", o.customer.email.as_deref());
    fact(&mut main, "Phone", o.customer.phone.as_deref());
    let a = &o.ship_to;
    let ship_to: Vec<&str> = [&a.line1, &a.line2, &a.city, &a.region, &a.postal_code, &a.country]
        .iter()
        .filter_map(|v| v.as_deref())
        .collect();
    fact(&mut main, "Ship to", Some(&ship_to.join(", ")));
    let items: Vec<String> = o
        .items
        .iter()
        .map(|i| match &i.description {
            Some(d) => format!("{} × {} ({d})", i.quantity, i.sku),
            None => format!("{} × {}", i.quantity, i.sku),
        })
        .collect();
    fact(&mut main, "Items", Some(&items.join("; ")));
    main.push_str("</dl></div>");

    main.push_str("<h2>Exceptions</h2>");
    if record.exceptions.is_empty() {
        main.push_str("<p>None.</p>");
    } else {
        main.push_str(
            "<table><thead><tr><th scope=\"col\">Kind</th><th scope=\"col\">Severity</th><th scope=\"col\">State</th>\
             <th scope=\"col\">Parcel</th><th scope=\"col\">Opened</th><th scope=\"col\">Closed</th><th scope=\"col\">Owner</th>\
             <th scope=\"col\">Worked by</th><th scope=\"col\">Note</th></tr></thead><tbody>",
        );
        for e in &record.exceptions {
            let worked: Vec<String> = [
                e.acknowledged_by.as_deref().map(|b| format!("acknowledged by {b}")),
                e.assigned_by.as_deref().map(|b| format!("assigned by {b}")),
                e.resolved_by.as_deref().map(|b| format!("resolved by {b}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            let _ = write!(
                main,
                "<tr><td>{}{}</td><td class=\"sev-{sev}\">{sev}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&e.kind),
                e.detail.as_deref().map(|d| format!("<br><span class=\"muted\">{}</span>", esc(d))).unwrap_or_default(),
                esc(&e.state),
                esc(e.tracking_number.as_deref().unwrap_or("")),
                esc(&stored_time(&e.opened_at)),
                esc(&e.closed_at.as_deref().map(stored_time).unwrap_or_default()),
                esc(e.owner.as_deref().unwrap_or("")),
                esc(&worked.join("; ")),
                esc(e.note.as_deref().unwrap_or("")),
                sev = esc(&e.severity),
            );
        }
        main.push_str("</tbody></table>");
    }

    main.push_str("<h2>Parcels</h2>");
    if record.shipments.is_empty() {
        main.push_str("<p>No parcel yet.</p>");
    }
    for (n, s) in record.shipments.iter().enumerate() {
        let sh = &s.shipment;
        let _ = write!(
            main,
            "<div class=\"card\"><h3>Parcel {} · {}</h3><dl class=\"facts\">",
            n + 1,
            esc(sh.tracking_number.as_str())
        );
        fact(&mut main, "Direction", Some(sh.direction.as_str()));
        fact(&mut main, "Carrier", sh.carrier.as_deref());
        fact(&mut main, "Service", sh.service.as_deref());
        fact(&mut main, "Status", Some(s.status.map(Milestone::as_str).unwrap_or("no status yet")));
        if s.delayed {
            fact(&mut main, "Delayed", Some("yes"));
        }
        if let Some(eta) = &s.eta {
            fact(&mut main, "ETA", Some(&format!("{} to {}", time_text(&eta.earliest), time_text(&eta.latest))));
        }
        fact(&mut main, "Origin", sh.origin_location_id.as_deref());
        let items: Vec<String> = sh.items.iter().map(|i| format!("{} × {}", i.quantity, i.sku)).collect();
        fact(&mut main, "Items", Some(&items.join("; ")));
        let entries: Vec<TimelineEntry> =
            s.timeline.iter().map(|e| TimelineEntry { event: e.event.clone(), advisory: e.advisory }).collect();
        if let Some((decision, at)) = return_to_sender::decision_of(&entries) {
            let when = at.format("%Y-%m-%d %H:%M UTC").to_string();
            fact(&mut main, "Back with the sender", Some(&format!("decided: {decision} ({when})")));
        }
        main.push_str("</dl>");
        let awaits_decision = return_to_sender::check_decision(sh.direction, s.status, &entries).is_ok();
        if awaits_decision && session.may_act() {
            let _ = write!(
                main,
                "<form method=\"post\" class=\"decision\" action=\"/ops/orders/{order}/shipments/{parcel}/decision\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <fieldset><legend>Back with the sender: decide what happens next</legend>\
                 <label><input type=\"radio\" name=\"decision\" value=\"reship\" required> Reship the same items</label>\
                 <label><input type=\"radio\" name=\"decision\" value=\"refund\"> Refund the customer</label>\
                 <label><input type=\"radio\" name=\"decision\" value=\"cancel\"> Cancel what was not delivered</label>\
                 <label>New tracking number (reship) <input name=\"tracking_number\" maxlength=\"40\"></label>\
                 <label>Carrier (reship) <input name=\"carrier\" maxlength=\"40\"></label>\
                 <label>Note <input name=\"note\" maxlength=\"2000\"></label>\
                 <button type=\"submit\">Decide</button></fieldset></form>",
                order = esc(&url_encode(number)),
                parcel = esc(sh.tracking_number.as_str()),
                csrf = esc(&session.csrf_token),
            );
        } else if awaits_decision {
            main.push_str("<p>Back with the sender: an admin decides reship, refund or cancel.</p>");
        }
        main.push_str("</div>");
    }

    main.push_str("<h2>Returns</h2>");
    if record.returns.is_empty() {
        main.push_str("<p>None.</p>");
    }
    for r in &record.returns {
        let items: Vec<String> =
            r.items.iter().map(|i| format!("{} × {} ({})", i.quantity, i.sku, i.reason.as_str())).collect();
        let _ = write!(
            main,
            "<p>Return {} · {} · {} · {}{}</p>",
            r.id,
            esc(r.state.as_str()),
            esc(&r.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            esc(&items.join("; ")),
            r.note.as_deref().map(|n| format!(" · {}", esc(n))).unwrap_or_default()
        );
        if let Some(parcel) = &r.return_tracking_number {
            let _ = write!(main, "<p>Return parcel {}</p>", esc(parcel));
        }
        if !r.inspection.is_empty() {
            let found: Vec<String> = r
                .inspection
                .iter()
                .map(|i| format!("{} × {}: {} → {}", i.quantity, i.sku, i.result.as_str(), i.disposition.as_str()))
                .collect();
            let _ = write!(main, "<p>Inspection: {}</p>", esc(&found.join("; ")));
        }
        if !r.history.is_empty() {
            main.push_str("<ol class=\"return-steps\">");
            for step in &r.history {
                let _ = write!(
                    main,
                    "<li>{} · {} → {} · {}{}</li>",
                    esc(&step.at.format("%Y-%m-%d %H:%M UTC").to_string()),
                    esc(step.from.map(|f| f.as_str()).unwrap_or("")),
                    esc(step.to.as_str()),
                    esc(&step.actor),
                    step.note.as_deref().map(|n| format!(" · {}", esc(n))).unwrap_or_default()
                );
            }
            main.push_str("</ol>");
        }
    }

    main.push_str("<h2>Claims</h2>");
    if claims.is_empty() {
        main.push_str("<p>None.</p>");
    }
    for c in claims {
        let _ = write!(
            main,
            "<p>Claim {} · {} · {} {} against {} · from exception {} ({}) · opened {}{}</p>",
            c.id,
            esc(c.state.as_str()),
            esc(&c.amount.to_string()),
            esc(&c.currency),
            esc(c.carrier.as_deref().unwrap_or("the carrier")),
            c.exception_id,
            esc(&c.exception_kind),
            esc(&c.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            c.evidence.as_deref().map(|e| format!(" · {}", esc(e))).unwrap_or_default()
        );
    }

    main.push_str("<h2>Timeline</h2>");
    let mut entries: Vec<(&str, &StoredEntry)> = record.timeline.iter().map(|e| ("order", e)).collect();
    for s in &record.shipments {
        entries.extend(s.timeline.iter().map(|e| (s.shipment.tracking_number.as_str(), e)));
    }
    entries.sort_by_key(|(_, e)| (e.event.occurred_at, e.event.received_at));
    let mut messages: std::collections::VecDeque<(DateTime<Utc>, String)> =
        notifications.iter().map(notification_row).collect();
    messages.make_contiguous().sort_by_key(|(at, _)| *at);
    main.push_str(
        "<table><caption class=\"sr\">Every event of the order in the order it happened</caption><thead><tr>\
         <th scope=\"col\">Happened</th><th scope=\"col\">Arrived</th><th scope=\"col\">About</th><th scope=\"col\">Milestone</th>\
         <th scope=\"col\">Raw code</th><th scope=\"col\">Description</th><th scope=\"col\">Source</th><th scope=\"col\">Place</th>\
         <th scope=\"col\">Notes</th></tr></thead><tbody>",
    );
    if entries.is_empty() && messages.is_empty() {
        main.push_str("<tr><td colspan=\"9\">No events yet.</td></tr>");
    }
    for (about, entry) in entries {
        let e = &entry.event;
        // Messages take their place among the events by when they were queued.
        while messages.front().is_some_and(|(at, _)| *at < e.occurred_at.with_timezone(&Utc)) {
            main.push_str(&messages.pop_front().expect("checked").1);
        }
        let lag = e.received_at - e.occurred_at.with_timezone(&Utc);
        let arrived = if lag.num_minutes() > LATE_ARRIVAL_MINUTES {
            format!(
                "{}<br><span class=\"late\">arrived {} late</span>",
                esc(&e.received_at.format("%Y-%m-%d %H:%M UTC").to_string()),
                age_text(lag.num_seconds())
            )
        } else {
            String::from("<span class=\"muted\">on time</span>")
        };
        let milestone = match (e.milestone, entry.unmapped) {
            (Some(m), _) => esc(m.as_str()),
            (None, true) => "<span class=\"tag\">unmapped</span>".to_string(),
            (None, false) => "<span class=\"muted\">informational</span>".to_string(),
        };
        let mut notes = Vec::new();
        if entry.advisory {
            notes.push("<span class=\"tag\">advisory claim</span>".to_string());
        }
        if entry.duplicate_count > 0 {
            notes.push(format!("seen {} more time(s)", entry.duplicate_count));
        }
        let place = e
            .location
            .as_ref()
            .map(|l| {
                [&l.city, &l.region, &l.postal_code, &l.country]
                    .iter()
                    .filter_map(|v| v.as_deref())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let source = match &e.source_event_id {
            Some(id) => format!("{}<br><code>{}</code>", esc(e.source.as_str()), esc(id)),
            None => esc(e.source.as_str()),
        };
        let _ = write!(
            main,
            "<tr><td>{}</td><td>{arrived}</td><td>{}</td><td>{milestone}</td><td><code>{}</code></td><td>{}</td><td>{source}</td><td>{}</td><td>{}</td></tr>",
            esc(&time_text(&e.occurred_at)),
            esc(about),
            esc(e.code.as_deref().unwrap_or("")),
            esc(e.description.as_deref().unwrap_or("")),
            esc(&place),
            notes.join(" ")
        );
    }
    for (_, row) in messages {
        main.push_str(&row);
    }
    main.push_str("</tbody></table>");
    let _ = write!(main, "<p class=\"muted\">Shown {}.</p>", esc(&now.format("%Y-%m-%d %H:%M UTC").to_string()));
    layout(&format!("Order {number}"), Section::Orders, Some(session), &main)
}

/// What the data cleanup page shows.
pub struct CleanupView<'a> {
    pub unmapped: &'a [UnmappedCode],
    pub lanes: &'a [LaneRhythmRecord],
    pub truth: &'a SourceOfTruth,
    pub stale_days: u32,
    pub stale: &'a [StaleShipment],
    pub duplicates: &'a [DuplicateScans],
    pub notice: Option<&'a str>,
}

/// The data cleanup page: unmapped codes with a mapping form each, stale parcels, resent
/// scans by source and station, learned lane rhythms, and which source owns each milestone.
pub fn cleanup_page(session: &StaffSession, view: &CleanupView<'_>) -> String {
    let CleanupView { unmapped, lanes, truth, notice, .. } = *view;
    let mut main = String::from("<h1>Data cleanup</h1>");
    if let Some(notice) = notice {
        let _ = write!(main, "<div class=\"ok\" role=\"status\"><p>{}</p></div>", esc(notice));
    }
    main.push_str("<h2>Unmapped carrier codes</h2>");
    if unmapped.is_empty() {
        main.push_str("<p>Every code received is mapped.</p>");
    } else {
        main.push_str(
            "<table><thead><tr><th scope=\"col\">Carrier</th><th scope=\"col\">Code</th><th scope=\"col\">Example description</th>\
             <th scope=\"col\">Seen</th><th scope=\"col\">Last seen</th><th scope=\"col\">Map to</th></tr></thead><tbody>",
        );
        for (n, u) in unmapped.iter().enumerate() {
            let _ = write!(
                main,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>",
                esc(&u.carrier),
                esc(&u.code),
                esc(u.example_description.as_deref().unwrap_or("")),
                u.count,
                esc(&u.last_seen.format("%Y-%m-%d %H:%M UTC").to_string())
            );
            if session.may_act() {
                let _ = write!(
                    main,
                    "<form class=\"inline\" method=\"post\" action=\"/ops/cleanup/codes\">{}\
                     <input type=\"hidden\" name=\"carrier\" value=\"{}\"><input type=\"hidden\" name=\"code\" value=\"{}\">\
                     <label class=\"sr\" for=\"milestone-{n}\">Milestone for {} code {}</label><select id=\"milestone-{n}\" name=\"milestone\">\
                     <option value=\"informational\">informational (no status)</option>",
                    csrf_field(session),
                    esc(&u.carrier),
                    esc(&u.code),
                    esc(&u.carrier),
                    esc(&u.code)
                );
                for m in Milestone::ALL {
                    let _ = write!(main, "<option value=\"{0}\">{0}</option>", m.as_str());
                }
                main.push_str("</select><button type=\"submit\">Map</button></form>");
            } else {
                main.push_str("<span class=\"muted\">an admin maps codes</span>");
            }
            main.push_str("</td></tr>");
        }
        main.push_str("</tbody></table>");
    }

    let _ = write!(
        main,
        "<h2>Stale parcels</h2><form class=\"filters\" method=\"get\" action=\"/ops/cleanup\"><div>\
         <label for=\"stale_days\">No event for at least (days)</label>\
         <input id=\"stale_days\" name=\"stale_days\" type=\"number\" min=\"1\" max=\"365\" value=\"{}\"></div>\
         <div><button type=\"submit\">Show</button></div></form>",
        view.stale_days
    );
    if view.stale.is_empty() {
        main.push_str("<p>No parcel on its way has gone quiet that long.</p>");
    } else {
        main.push_str(
            "<table><thead><tr><th scope=\"col\">Order</th><th scope=\"col\">Parcel</th><th scope=\"col\">Carrier</th>\
             <th scope=\"col\">Status</th><th scope=\"col\">Last event</th></tr></thead><tbody>",
        );
        for s in view.stale {
            let _ = write!(
                main,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                order_link(&s.order_number),
                esc(&s.tracking_number),
                esc(s.carrier.as_deref().unwrap_or("")),
                esc(&s.status),
                s.last_event_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "never".into())
            );
        }
        main.push_str("</tbody></table>");
    }

    main.push_str("<h2>Resent scans by source and station</h2>");
    if view.duplicates.is_empty() {
        main.push_str("<p>No fact was received twice.</p>");
    } else {
        main.push_str(
            "<table><thead><tr><th scope=\"col\">Source</th><th scope=\"col\">Station or place</th>\
             <th scope=\"col\">Events resent</th><th scope=\"col\">Extra copies</th></tr></thead><tbody>",
        );
        for d in view.duplicates {
            let _ = write!(
                main,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&d.source),
                esc(&d.station),
                d.events,
                d.duplicates
            );
        }
        main.push_str("</tbody></table>");
    }

    main.push_str("<h2>Lane rhythm</h2><p class=\"muted\">Gaps between status-bearing carrier events, learned from delivered parcels; <code>stalled</code> opens after the p90 gap.</p>");
    if lanes.is_empty() {
        main.push_str("<p>Not enough history yet: the configured fallbacks apply.</p>");
    } else {
        main.push_str(
            "<table><thead><tr><th scope=\"col\">Lane (carrier | service | origin | destination)</th><th scope=\"col\">After stage</th>\
             <th scope=\"col\">Median hours</th><th scope=\"col\">p90 hours</th><th scope=\"col\">Samples</th></tr></thead><tbody>",
        );
        for l in lanes {
            let _ = write!(
                main,
                "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td></tr>",
                esc(&l.lane),
                esc(&l.stage),
                l.median_seconds as f64 / 3600.0,
                l.p90_seconds as f64 / 3600.0,
                l.samples
            );
        }
        main.push_str("</tbody></table>");
    }

    main.push_str(
        "<h2>Source of truth per milestone</h2><p class=\"muted\">A claim from any other source is kept as advisory and does not move status.</p>\
         <table><thead><tr><th scope=\"col\">Milestone</th><th scope=\"col\">Owned by</th></tr></thead><tbody>",
    );
    for m in Milestone::ALL {
        let owners: Vec<&str> = truth.owners_of(m).iter().map(|s| s.as_str()).collect();
        let _ = write!(main, "<tr><td>{}</td><td>{}</td></tr>", m.as_str(), esc(&owners.join(", ")));
    }
    main.push_str("</tbody></table>");
    layout("Data cleanup", Section::Cleanup, Some(session), &main)
}

fn rate_text(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".into(), |r| format!("{r:.1}%"))
}

/// Cycle-time buckets: round widths up to the 95th percentile, the last bucket open-ended.
fn cycle_time_buckets(cycle_hours: &[f64]) -> (Vec<String>, Vec<u32>) {
    let p95 = cycle_hours.get(((cycle_hours.len() as f64 * 0.95).ceil() as usize).saturating_sub(1)).copied();
    let ticks = chart::nice_ticks(p95.unwrap_or(1.0), 8);
    let width = ticks.get(1).copied().unwrap_or(1.0);
    let counts = chart::histogram(cycle_hours, width, ticks.len());
    let labels = ticks
        .iter()
        .enumerate()
        .map(|(i, lower)| if i + 1 == ticks.len() { format!("≥{lower}") } else { format!("{lower}–{}", lower + width) })
        .collect();
    (labels, counts)
}

/// The KPI charts over the orders placed in the last `weeks` weeks.
pub fn insights_page(session: &StaffSession, weeks: u32, facts: &[OrderKpiFacts]) -> String {
    let mut main = String::from("<h1>Insights</h1>");
    let _ = write!(
        main,
        "<form class=\"filters\" method=\"get\" action=\"/ops/insights\"><div><label for=\"weeks\">Weeks</label>\
         <input id=\"weeks\" name=\"weeks\" type=\"number\" min=\"1\" max=\"104\" value=\"{weeks}\"></div>\
         <button type=\"submit\">Show</button></form>"
    );
    let overall = kpi::compute(facts);
    let _ = write!(
        main,
        "<ul class=\"counts\" aria-label=\"Figures\"><li>Orders placed: {}</li><li>Shipped: {}</li><li>Delivered: {}</li>\
         <li>On time: {}</li><li>First attempt: {}</li><li>Exception rate: {}</li></ul>",
        overall.orders,
        overall.shipped_orders,
        overall.deliveries,
        rate_text(overall.on_time_delivery_rate),
        rate_text(overall.first_attempt_delivery_rate),
        rate_text(overall.exception_rate)
    );
    if facts.is_empty() {
        main.push_str("<p class=\"muted\">No orders were placed in this period.</p>");
        return layout("Insights", Section::Insights, Some(session), &main);
    }
    let by_week = kpi::compute_grouped(facts, KpiGrouping::Week);
    let week_labels: Vec<String> = by_week.iter().map(|(k, _)| k.clone()).collect();
    let on_time: Vec<Option<f64>> = by_week.iter().map(|(_, k)| k.on_time_delivery_rate).collect();
    let (cycle_labels, cycle_counts) = cycle_time_buckets(&kpi::cycle_times_hours(facts));
    let (exception_weeks, by_kind) = kpi::exceptions_by_week_and_kind(facts);
    let kinds: Vec<(String, Vec<u32>)> = by_kind.into_iter().collect();
    main.push_str("<div class=\"charts\"><div class=\"card\">");
    main.push_str(&chart::percent_line_chart(
        "on-time",
        "On-time delivery rate by week",
        "week placed (ISO)",
        &week_labels,
        &on_time,
    ));
    main.push_str("</div><div class=\"card\">");
    main.push_str(&chart::bar_chart(
        "cycle-time",
        "Order cycle time (placed to first carrier scan)",
        "hours",
        "orders",
        &cycle_labels,
        &cycle_counts,
    ));
    main.push_str("</div><div class=\"card\">");
    if kinds.is_empty() {
        main.push_str("<p class=\"muted\">No exceptions opened on these orders.</p>");
    } else {
        main.push_str(&chart::stacked_bar_chart(
            "exceptions",
            "Exceptions opened by kind",
            "week opened (ISO)",
            "exceptions",
            &exception_weeks,
            &kinds,
        ));
    }
    main.push_str("</div></div><h2>Carriers</h2><table><caption class=\"sr\">Carriers side by side</caption><thead><tr>\
        <th scope=\"col\">Carrier</th><th scope=\"col\">Orders</th><th scope=\"col\">Delivered</th>\
        <th scope=\"col\">On time</th><th scope=\"col\">On time by week</th><th scope=\"col\">Cycle time median (h)</th>\
        <th scope=\"col\">First attempt</th><th scope=\"col\">Exception rate</th><th scope=\"col\">Cost per order</th>\
        </tr></thead><tbody>");
    for (carrier, k) in kpi::compute_grouped(facts, KpiGrouping::Carrier) {
        let mine: Vec<OrderKpiFacts> = facts
            .iter()
            .filter(|o| o.shipments.first().and_then(|s| s.carrier.as_deref()).unwrap_or("none") == carrier)
            .cloned()
            .collect();
        let weekly = kpi::compute_grouped(&mine, KpiGrouping::Week);
        let trend: Vec<Option<f64>> = week_labels
            .iter()
            .map(|w| weekly.iter().find(|(k, _)| k == w).and_then(|(_, k)| k.on_time_delivery_rate))
            .collect();
        let _ = write!(
            main,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&carrier),
            k.orders,
            k.deliveries,
            rate_text(k.on_time_delivery_rate),
            chart::sparkline(&format!("{carrier} on time by week"), &trend),
            k.order_cycle_time_hours_median.map_or_else(|| "–".into(), |h| format!("{h:.1}")),
            rate_text(k.first_attempt_delivery_rate),
            rate_text(k.exception_rate),
            k.fulfillment_cost_per_order.map_or_else(|| "–".into(), |m| m.to_string()),
        );
    }
    main.push_str("</tbody></table>");
    layout("Insights", Section::Insights, Some(session), &main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_the_largest_useful_units() {
        assert_eq!(age_text(59), "0 min");
        assert_eq!(age_text(3 * 3600 + 600), "3 h 10 min");
        assert_eq!(age_text(2 * 86_400 + 5 * 3600), "2 d 5 h");
        assert_eq!(age_text(-5), "0 min");
    }
}
