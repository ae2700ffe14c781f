//! HTML of the customer pages, written by hand with one escaping helper instead of a template
//! engine: the pages are few and small, every dynamic value passes through `esc`, and the
//! markup stays next to the rules that decide what a customer may see (first name and city
//! only; no advisory, internal or unmapped events, raw codes, staff notes or exceptions).
//! Pages work without JavaScript, use landmarks and labelled controls, and keep text at WCAG AA
//! contrast with any brand colour (unreadable ones fall back in `milepost_domain::branding`).

use super::i18n::Lang;
use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use milepost_app::records::{OrderRecord, ReturnRecord, tracking_url};
use milepost_domain::returns::returnable_quantities;
use milepost_domain::tracking::{ShipmentView, customer_notice, customer_steps, order_status_id};
use milepost_domain::{Branding, Direction, ReturnReason};
use std::fmt::Write;

/// Escapes text for HTML element content and double-quoted attributes.
pub fn esc(text: &str) -> String {
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

/// Percent-encodes a query value.
pub fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// What every page needs: the language, the account's look, and where the page is (to link the
/// same page in another language).
pub struct PageContext {
    pub lang: Lang,
    pub branding: Branding,
    /// Path and query of this page without `lang`, e.g. `/track?order_number=MP-1`.
    pub here: String,
}

impl PageContext {
    fn brand_name(&self) -> String {
        self.branding.name.clone().unwrap_or_else(|| self.lang.t("page.default_brand").to_string())
    }

    fn link_in(&self, lang: Lang) -> String {
        let sep = if self.here.contains('?') { '&' } else { '?' };
        format!("{}{sep}lang={}", self.here, lang.code())
    }
}

const CSS: &str = "
*{box-sizing:border-box}
body{margin:0;overflow-wrap:break-word;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:1rem;line-height:1.5;color:#1f2933;background:#f5f7fa}
a{color:var(--primary)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem}
.skip:focus{left:.5rem}
.wrap{max-width:46rem;margin:0 auto;padding:0 1rem}
header.brand{background:var(--primary);color:#fff}
header.brand .wrap{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem;padding-top:.75rem;padding-bottom:.75rem}
header.brand a{color:#fff}
.brand-name{font-weight:700;font-size:1.15rem;display:flex;align-items:center;gap:.5rem}
.brand-name img{max-height:2.25rem;max-width:8rem;background:#fff;border-radius:4px;padding:2px}
nav.langs ul{list-style:none;margin:0;padding:0;display:flex;gap:.75rem}
nav.langs a[aria-current]{font-weight:700;text-decoration:none}
main{padding-top:1.5rem;padding-bottom:2rem}
h1{font-size:1.6rem;margin:.25rem 0 1rem}
h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
h3{font-size:1.1rem;margin:0 0 .5rem}
h4{font-size:1rem;margin:1rem 0 .25rem}
.card{background:#fff;border:1px solid #cbd2d9;border-radius:8px;padding:1rem;margin:0 0 1rem}
.status{font-size:1.35rem;font-weight:700;color:var(--primary);margin:0 0 .5rem}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25rem 1rem;margin:0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;min-width:0;overflow-wrap:anywhere}
.notice{border-left:6px solid #b54708;background:#fffaeb;padding:1rem;margin:0 0 1rem;border-radius:4px}
.notice h2{margin-top:0;color:#7a2e0e}
.ok{border-left:6px solid var(--accent);background:#ecfdf3;padding:1rem;margin:0 0 1rem;border-radius:4px}
.error{border-left:6px solid #b42318;background:#fef3f2;padding:1rem;margin:0 0 1rem;border-radius:4px;color:#7a271a}
ol.timeline{list-style:none;margin:0;padding:0 0 0 1rem;border-left:3px solid #cbd2d9}
ol.timeline li{margin:0 0 .6rem;position:relative}
ol.timeline li::before{content:'';position:absolute;left:-1.45rem;top:.45rem;width:.7rem;height:.7rem;border-radius:50%;background:var(--primary)}
.step{font-weight:600;display:block}
.muted{color:#52606d}
ul.items{margin:0;padding-left:1.25rem}
form.stack label{display:block;font-weight:600;margin:.75rem 0 .25rem}
form.stack .hint{display:block;font-weight:400;color:#52606d;font-size:.9rem}
input,select,textarea{font:inherit;width:100%;max-width:28rem;padding:.55rem .6rem;border:1px solid #7b8794;border-radius:6px;background:#fff;color:#1f2933}
input[type=number]{max-width:7rem}
button{font:inherit;font-weight:600;margin-top:1rem;padding:.65rem 1.25rem;border:0;border-radius:6px;background:var(--primary);color:#fff;cursor:pointer;min-height:44px}
.or{margin:.75rem 0 0;font-weight:600}
footer{padding-top:1rem;padding-bottom:2rem;color:#52606d;border-top:1px solid #cbd2d9}
footer a{color:#1f2933}
@media (min-width:40rem){h1{font-size:2rem}.card{padding:1.5rem}}
";

/// The page frame: banner with brand and language switch, main, and footer with support.
pub fn layout(ctx: &PageContext, title: &str, main: &str) -> String {
    let lang = ctx.lang;
    let brand = ctx.brand_name();
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\"><meta name=\"robots\" content=\"noindex\">\
         <title>{title} · {brand_e}</title><style>:root{{--primary:{primary};--accent:{accent}}}{CSS}</style></head>\
         <body><a class=\"skip\" href=\"#main\">{skip}</a><header class=\"brand\"><div class=\"wrap\">\
         <span class=\"brand-name\">",
        code = lang.code(),
        title = esc(title),
        brand_e = esc(&brand),
        primary = ctx.branding.page_primary(),
        accent = ctx.branding.page_accent(),
        skip = esc(lang.t("page.skip")),
    );
    if let Some(logo) = &ctx.branding.logo_url {
        let _ = write!(
            html,
            "<img src=\"{}\" alt=\"{}\">",
            esc(logo),
            esc(&lang.tf("page.logo_alt", &[("brand", &brand)]))
        );
    }
    let _ =
        write!(html, "{}</span><nav class=\"langs\" aria-label=\"{}\"><ul>", esc(&brand), esc(lang.t("page.language")));
    for other in Lang::ALL {
        let current = if other == lang { " aria-current=\"page\"" } else { "" };
        let _ = write!(
            html,
            "<li><a href=\"{}\" lang=\"{code}\" hreflang=\"{code}\"{current}>{}</a></li>",
            esc(&ctx.link_in(other)),
            esc(other.t("page.lang_name")),
            code = other.code()
        );
    }
    let _ =
        write!(html, "</ul></nav></div></header><main id=\"main\" class=\"wrap\">{main}</main><footer class=\"wrap\">");
    let b = &ctx.branding;
    if b.support_url.is_some() || b.support_email.is_some() {
        let _ = write!(html, "<p><strong>{}</strong> ", esc(lang.t("order.help")));
        if let Some(url) = &b.support_url {
            let _ = write!(html, "<a href=\"{}\">{}</a> ", esc(url), esc(lang.t("order.contact_support")));
        }
        if let Some(email) = &b.support_email {
            let _ = write!(
                html,
                "<a href=\"mailto:{}\">{}</a>",
                esc(email),
                esc(&lang.tf("order.email_support", &[("email", email)]))
            );
        }
        html.push_str("</p>");
    }
    if let Some(text) = &b.footer_text {
        let _ = write!(html, "<p>{}</p>", esc(text));
    }
    html.push_str("</footer></body></html>\n");
    html
}

/// Values typed into the lookup form, echoed back so a person can correct them.
#[derive(Debug, Default, Clone)]
pub struct LookupForm {
    pub order_number: String,
    pub email: String,
    pub postal_code: String,
    pub account: Option<String>,
}

/// The lookup form, with an optional message above it (not found, missing fields, bad link).
pub fn lookup_page(ctx: &PageContext, form: &LookupForm, message: Option<&str>) -> String {
    let lang = ctx.lang;
    let mut main = String::new();
    let _ = write!(main, "<h1>{}</h1>", esc(lang.t("page.title_lookup")));
    if let Some(message) = message {
        let _ = write!(main, "<div class=\"error\" role=\"alert\"><p>{}</p></div>", esc(message));
    }
    let _ = write!(
        main,
        "<div class=\"card\"><p>{intro}</p><form class=\"stack\" method=\"get\" action=\"/track\">\
         <input type=\"hidden\" name=\"lang\" value=\"{code}\">",
        intro = esc(lang.t("form.intro")),
        code = lang.code()
    );
    if let Some(account) = &form.account {
        let _ = write!(main, "<input type=\"hidden\" name=\"account\" value=\"{}\">", esc(account));
    }
    let _ = write!(
        main,
        "<label for=\"order_number\">{l_order}<span class=\"hint\" id=\"order_number_hint\">{hint}</span></label>\
         <input id=\"order_number\" name=\"order_number\" required autocomplete=\"off\" \
         aria-describedby=\"order_number_hint\" value=\"{order}\">\
         <label for=\"email\">{l_email}</label>\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" value=\"{email}\">\
         <p class=\"or\">{or}</p>\
         <label for=\"postal_code\">{l_postal}</label>\
         <input id=\"postal_code\" name=\"postal_code\" autocomplete=\"postal-code\" value=\"{postal}\">\
         <button type=\"submit\">{submit}</button></form></div>",
        l_order = esc(lang.t("form.order_number")),
        hint = esc(lang.t("form.order_number_hint")),
        order = esc(&form.order_number),
        l_email = esc(lang.t("form.email")),
        email = esc(&form.email),
        or = esc(lang.t("form.or")),
        l_postal = esc(lang.t("form.postal_code")),
        postal = esc(&form.postal_code),
        submit = esc(lang.t("form.submit")),
    );
    layout(ctx, lang.t("page.title_lookup"), &main)
}

fn month_name(lang: Lang, month: u32) -> String {
    lang.t("format.months").split(',').nth(month.saturating_sub(1) as usize).unwrap_or("").to_string()
}

/// A day of a delivery window with its weekday, as customers plan by it: "Tue 10 Nov".
pub fn format_day(lang: Lang, at: &DateTime<FixedOffset>) -> String {
    let weekday = lang
        .t("format.weekdays")
        .split(',')
        .nth(at.weekday().num_days_from_monday() as usize)
        .unwrap_or("")
        .to_string();
    lang.tf(
        "format.day",
        &[("weekday", &weekday), ("day", &at.day().to_string()), ("month", &month_name(lang, at.month()))],
    )
}

pub fn format_date(lang: Lang, at: &DateTime<FixedOffset>) -> String {
    lang.tf(
        "format.date",
        &[("month", &month_name(lang, at.month())), ("day", &at.day().to_string()), ("year", &at.year().to_string())],
    )
}

fn format_datetime(lang: Lang, at: &DateTime<FixedOffset>) -> String {
    let time = format!("{:02}:{:02}", at.hour(), at.minute());
    lang.tf(
        "format.datetime",
        &[("month", &month_name(lang, at.month())), ("day", &at.day().to_string()), ("time", &time)],
    )
}

fn carrier_name(code: &str) -> String {
    match code.to_ascii_lowercase().as_str() {
        "ups" => "UPS".into(),
        "fedex" => "FedEx".into(),
        "usps" => "USPS".into(),
        "dhl" => "DHL".into(),
        other => {
            let mut chars = other.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
        }
    }
}

/// Extra messages on the order page.
#[derive(Debug, Default)]
pub struct OrderPageExtras<'a> {
    /// A token for the return form, tied to this order view.
    pub return_token: Option<&'a str>,
    /// Shown after a return request was taken.
    pub return_confirmed: bool,
    /// Why the last return request was refused.
    pub return_error: Option<&'a str>,
}

/// The order as its customer sees it.
pub fn order_page(
    ctx: &PageContext,
    record: &OrderRecord,
    now: chrono::DateTime<chrono::Utc>,
    extras: &OrderPageExtras<'_>,
) -> String {
    let lang = ctx.lang;
    let order = &record.order;
    let number = order.order_number.as_str();
    let title = lang.tf("page.title_order", &[("number", number)]);
    let describe = |sku: &str| -> String {
        order.items.iter().find(|i| i.sku == sku).and_then(|i| i.description.clone()).unwrap_or_else(|| sku.to_string())
    };
    let outbound: Vec<_> = record.shipments.iter().filter(|s| s.shipment.direction == Direction::Outbound).collect();
    let mut main = String::new();
    let _ = write!(main, "<h1>{}</h1>", esc(&title));
    if let Some(first) = order.customer.name.as_deref().and_then(|n| n.split_whitespace().next()) {
        let _ = write!(main, "<p>{}</p>", esc(&lang.tf("order.greeting", &[("name", first)])));
    }
    if extras.return_confirmed {
        let _ = write!(main, "<div class=\"ok\" role=\"status\"><p>{}</p></div>", esc(lang.t("returns.confirmation")));
    }

    // Status, promise, ETA, destination city.
    let _ = write!(
        main,
        "<section class=\"card\" aria-labelledby=\"status-h\"><h2 id=\"status-h\" class=\"muted\" style=\"margin-top:0;font-size:1rem\">{}</h2>\
         <p class=\"status\">{}</p><dl class=\"facts\">",
        esc(lang.t("order.status_heading")),
        esc(lang.t(order_status_id(record.status)))
    );
    if let Some(promised) = &order.promised_by {
        let _ =
            write!(main, "<dt>{}</dt><dd>{}</dd>", esc(lang.t("order.promised")), esc(&format_date(lang, promised)));
    }
    let etas: Vec<_> = outbound
        .iter()
        .filter(|s| s.status != Some(milepost_domain::Milestone::Delivered))
        .filter_map(|s| s.eta.as_ref())
        .collect();
    if let (Some(earliest), Some(latest)) = (etas.iter().map(|e| e.earliest).min(), etas.iter().map(|e| e.latest).max())
    {
        let from = format_day(lang, &earliest);
        let to = format_day(lang, &latest);
        let window = if from == to { from } else { lang.tf("format.range", &[("from", &from), ("to", &to)]) };
        let _ = write!(main, "<dt>{}</dt><dd>{}</dd>", esc(lang.t("order.eta")), esc(&window));
    }
    if let Some(city) = &order.ship_to.city {
        let _ = write!(main, "<dt>{}</dt><dd>{}</dd>", esc(lang.t("order.ship_to")), esc(city));
    }
    main.push_str("</dl></section>");

    // The one notice that explains a problem and what happens next.
    let views: Vec<ShipmentView> = outbound
        .iter()
        .map(|s| ShipmentView { status: s.status, delayed: s.delayed, eta_latest: s.eta.as_ref().map(|e| e.latest) })
        .collect();
    if let Some(notice) = customer_notice(record.status, order.promised_by, &views, now) {
        let id = notice.id();
        let _ = write!(
            main,
            "<section class=\"notice\" role=\"status\" aria-labelledby=\"notice-h\"><h2 id=\"notice-h\">{}</h2><p>{}</p><p>{}</p>",
            esc(lang.t(&format!("{id}.title"))),
            esc(lang.t(&format!("{id}.next"))),
            esc(lang.t(&format!("{id}.action")))
        );
        if let Some(url) = &ctx.branding.support_url {
            let _ = write!(main, "<p><a href=\"{}\">{}</a></p>", esc(url), esc(lang.t("order.contact_support")));
        } else if let Some(email) = &ctx.branding.support_email {
            let _ = write!(
                main,
                "<p><a href=\"mailto:{}\">{}</a></p>",
                esc(email),
                esc(&lang.tf("order.email_support", &[("email", email)]))
            );
        }
        main.push_str("</section>");
    }

    // The order's own steps (placed, confirmed).
    let order_steps = customer_steps(record.timeline.iter().map(|e| (&e.event, e.advisory)));
    if !order_steps.is_empty() {
        let _ = write!(
            main,
            "<section class=\"card\" aria-labelledby=\"order-steps-h\"><h2 id=\"order-steps-h\" style=\"margin-top:0\">{}</h2><ol class=\"timeline\">",
            esc(lang.t("order.order_steps"))
        );
        for step in &order_steps {
            let _ = write!(
                main,
                "<li><span class=\"step\">{}</span><time datetime=\"{}\" class=\"muted\">{}</time></li>",
                esc(lang.t(step.wording_id)),
                step.at.to_rfc3339(),
                esc(&format_datetime(lang, &step.at))
            );
        }
        main.push_str("</ol></section>");
    }

    // Packages.
    let _ = write!(
        main,
        "<section aria-labelledby=\"packages-h\"><h2 id=\"packages-h\">{}</h2>",
        esc(lang.t("order.packages"))
    );
    let total = outbound.len();
    for (i, s) in outbound.iter().enumerate() {
        let heading = if total == 1 {
            lang.t("order.package_one").to_string()
        } else {
            lang.tf("order.package_n", &[("n", &(i + 1).to_string()), ("total", &total.to_string())])
        };
        let status = match s.status {
            Some(m) => lang.t(m.customer_wording_id()),
            None => lang.t("milestone.pending"),
        };
        let _ = write!(
            main,
            "<article class=\"card\" aria-labelledby=\"pkg-{i}\"><h3 id=\"pkg-{i}\">{}</h3><p class=\"status\">{}</p><dl class=\"facts\">",
            esc(&heading),
            esc(status)
        );
        if let Some(carrier) = &s.shipment.carrier {
            let name = carrier_name(carrier);
            let _ = write!(main, "<dt>{}</dt><dd>{}", esc(lang.t("order.carrier")), esc(&name));
            if let Some(url) = tracking_url(carrier, s.shipment.tracking_number.as_str()) {
                let _ = write!(
                    main,
                    " · <a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{}<span class=\"muted\"> {}</span></a>",
                    esc(&url),
                    esc(&lang.tf("order.carrier_link", &[("carrier", &name)])),
                    esc(lang.t("order.carrier_link_note"))
                );
            }
            main.push_str("</dd>");
        }
        let _ = write!(
            main,
            "<dt>{}</dt><dd>{}</dd></dl><h4>{}</h4><ul class=\"items\">",
            esc(lang.t("order.tracking_number")),
            esc(s.shipment.tracking_number.as_str()),
            esc(lang.t("order.items"))
        );
        let items: Vec<(String, u32)> = if s.shipment.items.is_empty() {
            order.items.iter().map(|i| (i.sku.clone(), i.quantity)).collect()
        } else {
            s.shipment.items.iter().map(|i| (i.sku.clone(), i.quantity)).collect()
        };
        for (sku, quantity) in items {
            let _ = write!(
                main,
                "<li>{}</li>",
                esc(&lang.tf("order.item_line", &[("quantity", &quantity.to_string()), ("item", &describe(&sku))]))
            );
        }
        let _ = write!(main, "</ul><h4>{}</h4>", esc(lang.t("order.progress")));
        let steps = customer_steps(s.timeline.iter().map(|e| (&e.event, e.advisory)));
        if steps.is_empty() {
            let _ = write!(main, "<p class=\"muted\">{}</p>", esc(lang.t("order.no_steps")));
        } else {
            main.push_str("<ol class=\"timeline\">");
            // Newest first: what a customer wants to know is the latest step.
            for step in steps.iter().rev() {
                let _ = write!(
                    main,
                    "<li><span class=\"step\">{}</span><span class=\"muted\"><time datetime=\"{}\">{}</time>{}</span></li>",
                    esc(lang.t(step.wording_id)),
                    step.at.to_rfc3339(),
                    esc(&format_datetime(lang, &step.at)),
                    step.city.as_deref().map(|c| format!(" · {}", esc(c))).unwrap_or_default()
                );
            }
            main.push_str("</ol>");
        }
        main.push_str("</article>");
    }
    let unshipped: Vec<_> = record
        .items
        .iter()
        .filter_map(|p| {
            let in_parcels: u32 = outbound
                .iter()
                .filter(|s| s.status != Some(milepost_domain::Milestone::Cancelled))
                .map(|s| {
                    if s.shipment.items.is_empty() {
                        p.ordered
                    } else {
                        s.shipment.items.iter().filter(|i| i.sku == p.sku).map(|i| i.quantity).sum()
                    }
                })
                .sum();
            let left = p.ordered.saturating_sub(in_parcels);
            (left > 0).then(|| (p.sku.clone(), left))
        })
        .collect();
    if !unshipped.is_empty() && record.status != milepost_domain::OrderStatus::Cancelled {
        let _ = write!(
            main,
            "<article class=\"card\" aria-labelledby=\"pkg-none\"><h3 id=\"pkg-none\">{}</h3><ul class=\"items\">",
            esc(lang.t("order.not_shipped"))
        );
        for (sku, quantity) in unshipped {
            let _ = write!(
                main,
                "<li>{}</li>",
                esc(&lang.tf("order.item_line", &[("quantity", &quantity.to_string()), ("item", &describe(&sku))]))
            );
        }
        main.push_str("</ul></article>");
    }
    main.push_str("</section>");

    main.push_str(&returns_section(lang, record, extras, &describe));
    layout(ctx, &title, &main)
}

fn returns_section(
    lang: Lang,
    record: &OrderRecord,
    extras: &OrderPageExtras<'_>,
    describe: &dyn Fn(&str) -> String,
) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<section aria-labelledby=\"returns-h\"><h2 id=\"returns-h\">{}</h2>",
        esc(lang.t("returns.heading"))
    );
    for r in &record.returns {
        html.push_str(&return_card(lang, r, describe));
    }
    if let Some(error) = extras.return_error {
        let _ = write!(html, "<div class=\"error\" role=\"alert\" id=\"return-error\"><p>{}</p></div>", esc(error));
    }
    let earlier: Vec<_> = record.returns.iter().map(|r| (r.state, r.items.clone())).collect();
    let left = returnable_quantities(&record.items, &earlier);
    let returnable: Vec<(usize, &String, u32)> =
        left.iter().filter(|(_, q)| **q > 0).enumerate().map(|(i, (sku, q))| (i, sku, *q)).collect();
    match (extras.return_token, returnable.is_empty()) {
        (Some(token), false) => {
            let _ = write!(
                html,
                "<div class=\"card\"><h3>{}</h3><p>{}</p><form class=\"stack\" method=\"post\" action=\"/returns/start\">\
                 <input type=\"hidden\" name=\"token\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">",
                esc(lang.t("returns.start_heading")),
                esc(lang.t("returns.intro")),
                esc(token),
                lang.code()
            );
            for (i, sku, max) in &returnable {
                let _ = write!(
                    html,
                    "<input type=\"hidden\" name=\"sku_{i}\" value=\"{}\"><label for=\"qty_{i}\">{}</label>\
                     <input type=\"number\" id=\"qty_{i}\" name=\"qty_{i}\" min=\"0\" max=\"{max}\" value=\"0\" inputmode=\"numeric\">",
                    esc(sku),
                    esc(&lang.tf("returns.quantity_of", &[("item", &describe(sku)), ("max", &max.to_string())]))
                );
            }
            let _ = write!(
                html,
                "<label for=\"reason\">{}</label><select id=\"reason\" name=\"reason\" required><option value=\"\">{}</option>",
                esc(lang.t("returns.reason")),
                esc(lang.t("reason.choose"))
            );
            for reason in ReturnReason::ALL {
                let _ = write!(
                    html,
                    "<option value=\"{}\">{}</option>",
                    reason.as_str(),
                    esc(lang.t(&format!("reason.{}", reason.as_str())))
                );
            }
            let _ = write!(
                html,
                "</select><label for=\"note\">{}</label><textarea id=\"note\" name=\"note\" rows=\"3\" maxlength=\"1000\"></textarea>\
                 <button type=\"submit\">{}</button></form></div>",
                esc(lang.t("returns.note")),
                esc(lang.t("returns.submit"))
            );
        }
        (_, true) if record.returns.is_empty() => {
            let _ = write!(html, "<p class=\"muted\">{}</p>", esc(lang.t("returns.none_returnable")));
        }
        _ => {}
    }
    html.push_str("</section>");
    html
}

fn return_card(lang: Lang, r: &ReturnRecord, describe: &dyn Fn(&str) -> String) -> String {
    let mut html = String::new();
    let created = r.created_at.fixed_offset();
    let _ = write!(
        html,
        "<div class=\"card\"><p><span class=\"muted\">{}:</span> <strong class=\"return-state\">{}</strong></p><p class=\"muted\">{}</p><ul class=\"items\">",
        esc(lang.t("returns.state_label")),
        esc(lang.t(&format!("return_state.{}", r.state.as_str()))),
        esc(&lang.tf("returns.requested_on", &[("date", &format_date(lang, &created))]))
    );
    for item in &r.items {
        let _ = write!(
            html,
            "<li>{} ({})</li>",
            esc(&lang
                .tf("order.item_line", &[("quantity", &item.quantity.to_string()), ("item", &describe(&item.sku))])),
            esc(lang.t(&format!("reason.{}", item.reason.as_str())))
        );
    }
    html.push_str("</ul></div>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_content_and_attributes() {
        assert_eq!(esc("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(url_encode("a b&c@d.e"), "a%20b%26c%40d.e");
    }

    #[test]
    fn carriers_get_their_own_names() {
        assert_eq!(carrier_name("fedex"), "FedEx");
        assert_eq!(carrier_name("ontrac"), "Ontrac");
    }
}
