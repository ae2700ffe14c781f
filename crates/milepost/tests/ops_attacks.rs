//! The dashboard under attack: every POST form found on the dashboard's pages carries the
//! session's CSRF token and is refused without it (so a new form without one fails here), a
//! session id planted before login is never the one the login grants, and a logged-out
//! session's forms do nothing.

mod common;
mod ops_support;

use common::spawn_app;
use ops_support::{ADMIN, PASSWORD, Staff, csrf_of, failed_attempt_with_unmapped_code, staff};

/// A POST form on a page: its action and the fields it would submit as rendered.
#[derive(Debug)]
struct PostForm {
    action: String,
    fields: Vec<(String, String)>,
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    Some(tag[start..].split('"').next()?.replace("&amp;", "&"))
}

/// Every `<form method="post">` of a page, with its named inputs and selects (selects take a
/// plausible value; what matters is that the form is refused before it is read).
fn post_forms(html: &str) -> Vec<PostForm> {
    let mut forms = vec![];
    for chunk in html.split("<form").skip(1) {
        let body = chunk.split("</form>").next().unwrap_or_default();
        let open = body.split('>').next().unwrap_or_default();
        if attribute(open, "method").as_deref() != Some("post") {
            continue;
        }
        let mut fields = vec![];
        for tag in body.split('<').filter(|t| t.starts_with("input") || t.starts_with("select")) {
            if let Some(name) = attribute(tag, "name") {
                let value = attribute(tag, "value")
                    .unwrap_or_else(|| if tag.starts_with("select") { "exception".into() } else { "x".into() });
                fields.push((name, value));
            }
        }
        forms.push(PostForm { action: attribute(open, "action").unwrap_or_default(), fields });
    }
    forms
}

#[tokio::test]
async fn every_dashboard_form_carries_the_sessions_token_and_is_refused_without_it() {
    let app = spawn_app().await;
    staff(&app).await;
    failed_attempt_with_unmapped_code(&app, "CSRF-1", "1ZCSRF0000000001").await;
    let mut admin = Staff::logged_in(&app, ADMIN).await;
    let before = app.order("CSRF-1").await.body;
    let exceptions_before = app.get("/api/v1/exceptions?order_number=CSRF-1", &app.support).await.body;

    let mut forms = vec![];
    for page in ["/ops/exceptions", "/ops/orders?q=CSRF-1", "/ops/orders/CSRF-1", "/ops/cleanup"] {
        let html = admin.get(page).await;
        assert_eq!(html.status, 200, "{page}");
        let token = csrf_of(&html.body);
        for form in post_forms(&html.body) {
            let csrf = form.fields.iter().find(|(name, _)| name == "csrf").map(|(_, v)| v.clone());
            assert_eq!(csrf.as_deref(), Some(token.as_str()), "{page}: form {} lacks the session's token", form.action);
            forms.push(form);
        }
    }
    let actions: Vec<&str> = forms.iter().map(|f| f.action.as_str()).collect();
    for expected in ["/ops/logout", "/acknowledge", "/assign", "/resolve", "/ops/cleanup/codes"] {
        assert!(actions.iter().any(|a| a.ends_with(expected)), "a form for {expected} among {actions:?}");
    }

    for form in &forms {
        let without: Vec<(&str, &str)> =
            form.fields.iter().filter(|(n, _)| n != "csrf").map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let mut forged = without.clone();
        forged.push(("csrf", "0000000000000000000000000000000000000000000000000000000000000000"));
        for fields in [without, forged] {
            let reply = admin.post(&form.action, &fields).await;
            assert_eq!(reply.status, 403, "{} without its token: {}", form.action, reply.body);
        }
    }

    // Nothing changed, and the session still works (logout was refused too).
    assert_eq!(app.order("CSRF-1").await.body, before);
    assert_eq!(app.get("/api/v1/exceptions?order_number=CSRF-1", &app.support).await.body, exceptions_before);
    assert_eq!(admin.get("/ops/exceptions").await.status, 200);
}

#[tokio::test]
async fn a_session_id_planted_before_login_is_replaced_and_opens_nothing() {
    let app = spawn_app().await;
    staff(&app).await;
    let planted = "a".repeat(64);
    let mut victim = Staff::new(&app);
    victim.cookies.push(("mp_ops".into(), planted.clone()));
    let form = victim.get("/ops/login").await;
    let csrf = csrf_of(&form.body);
    let login = victim.post("/ops/login", &[("csrf", csrf.as_str()), ("email", ADMIN), ("password", PASSWORD)]).await;
    assert_eq!(login.status, 303, "{}", login.body);
    let granted = victim.session_cookie().expect("a session cookie");
    assert_ne!(granted, planted, "the login grants a fresh id");

    let mut attacker = Staff::new(&app);
    attacker.cookies.push(("mp_ops".into(), planted));
    let page = attacker.get("/ops/exceptions").await;
    assert_eq!((page.status, page.location.as_str()), (303, "/ops/login"), "the planted id opens nothing");
}
