//! What a customer reads: the branded e-mail (subject, plain text and HTML) and the short SMS for
//! each notice, in the account's language (English and Spanish), with the signed tracking link.
//! Pure text rendering, shared by the delivery worker (`milepost-notify`) and the preview
//! endpoint, so what the preview shows is exactly what is sent. Every value that came from
//! outside (names, tracking numbers, branding) is escaped before it reaches the HTML.

use milepost_domain::Branding;
use milepost_domain::notify::Notice;
use milepost_domain::notify_policy::MessageLanguage;

/// The facts a customer message names.
#[derive(Debug, Clone, Copy)]
pub struct MessageFacts<'a> {
    /// The merchant's name when its branding has none.
    pub account_name: &'a str,
    pub order_number: &'a str,
    pub customer_name: Option<&'a str>,
    pub tracking_numbers: &'a [String],
    /// The signed link that opens the order on the tracking page.
    pub link: &'a str,
    /// What the message says beyond its notice, e.g. why a return was rejected (the e-mail
    /// carries it; an SMS stays short).
    pub detail: Option<&'a str>,
}

/// A rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The fixed words of one language.
struct Wording {
    hello: &'static str,
    hello_name: &'static str,
    order: &'static str,
    tracking: &'static str,
    follow: &'static str,
    help: &'static str,
    detail: &'static str,
}

fn wording(lang: MessageLanguage) -> Wording {
    match lang {
        MessageLanguage::En => Wording {
            hello: "Hello,",
            hello_name: "Hello {name},",
            order: "Order",
            tracking: "Tracking number",
            follow: "Follow your order",
            help: "Questions? We are here to help",
            detail: "Reason",
        },
        MessageLanguage::Es => Wording {
            hello: "Hola:",
            hello_name: "Hola, {name}:",
            order: "Pedido",
            tracking: "Número de seguimiento",
            follow: "Sigue tu pedido",
            help: "¿Tienes preguntas? Estamos para ayudarte",
            detail: "Motivo",
        },
    }
}

/// The headline of a notice and the sentence under it.
fn notice_words(lang: MessageLanguage, notice: Notice, parcels: usize) -> (&'static str, &'static str) {
    use MessageLanguage::*;
    use Notice::*;
    let several = parcels > 1;
    match (lang, notice) {
        (En, Confirmed) => ("Your order is confirmed", "We have your order and are getting it ready."),
        (En, Shipped) if several => ("Your parcels have shipped", "The carrier has your parcels."),
        (En, Shipped) => ("Your order has shipped", "The carrier has your parcel."),
        (En, Delayed) => ("Your order is running late", "It will arrive later than we promised. We are on it."),
        (En, OutForDelivery) => ("Your order is out for delivery", "It should arrive today."),
        (En, DeliveryAttempted) => ("We tried to deliver your order", "The carrier will try again or leave a note."),
        (En, AvailableForPickup) => ("Your order is ready for pickup", "It is waiting for you at the pickup point."),
        (En, Delivered) if several => ("Your parcels were delivered", "Every parcel of your order has arrived."),
        (En, Delivered) => ("Your order was delivered", "Enjoy it!"),
        (En, RefundReleased) => ("Your refund was released", "We received your return and released your refund."),
        (En, ReplacementReleased) => {
            ("Your replacement is on its way", "We received your return and are sending a replacement.")
        }
        (En, ReturnApproved) => (
            "Your return was approved",
            "Pack the items you are returning with the order number inside and hand the parcel to the carrier; \
             we will write again when it arrives.",
        ),
        (En, ReturnRejected) => (
            "Your return request was declined",
            "We cannot take these items back. Open your order to see why, or reply to talk to us.",
        ),
        (En, ReturnReceived) => {
            ("We received your return", "Your parcel arrived at our warehouse; we will inspect it and write again.")
        }
        (En, UndeliveredRefunded) => (
            "Your parcel came back to us: we refunded you",
            "The carrier could not deliver your parcel and returned it to us, so we released your refund.",
        ),
        (Es, Confirmed) => ("Tu pedido está confirmado", "Hemos recibido tu pedido y lo estamos preparando."),
        (Es, Shipped) if several => ("Tus paquetes están en camino", "El transportista ya tiene tus paquetes."),
        (Es, Shipped) => ("Tu pedido está en camino", "El transportista ya tiene tu paquete."),
        (Es, Delayed) => ("Tu pedido se retrasa", "Llegará más tarde de lo prometido. Estamos en ello."),
        (Es, OutForDelivery) => ("Tu pedido está en reparto", "Debería llegar hoy."),
        (Es, DeliveryAttempted) => {
            ("Intentamos entregar tu pedido", "El transportista lo intentará de nuevo o te dejará un aviso.")
        }
        (Es, AvailableForPickup) => ("Tu pedido está listo para recoger", "Te espera en el punto de recogida."),
        (Es, Delivered) if several => {
            ("Tus paquetes han sido entregados", "Han llegado todos los paquetes de tu pedido.")
        }
        (Es, Delivered) => ("Tu pedido ha sido entregado", "¡Que lo disfrutes!"),
        (Es, RefundReleased) => ("Tu reembolso está en camino", "Recibimos tu devolución y emitimos tu reembolso."),
        (Es, ReplacementReleased) => {
            ("Tu reemplazo está en camino", "Recibimos tu devolución y te enviamos un reemplazo.")
        }
        (Es, ReturnApproved) => (
            "Tu devolución fue aprobada",
            "Empaqueta los artículos que devuelves con el número de pedido dentro y entrega el paquete al \
             transportista; te escribiremos cuando llegue.",
        ),
        (Es, ReturnRejected) => (
            "No podemos aceptar tu devolución",
            "No podemos recibir estos artículos. Abre tu pedido para ver el motivo o responde para hablar con nosotros.",
        ),
        (Es, ReturnReceived) => {
            ("Recibimos tu devolución", "Tu paquete llegó a nuestro almacén; lo revisaremos y te escribiremos.")
        }
        (Es, UndeliveredRefunded) => (
            "Tu paquete volvió a nosotros: te reembolsamos",
            "El transportista no pudo entregar tu paquete y nos lo devolvió, así que emitimos tu reembolso.",
        ),
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Only web links may become an image or a link in a mail.
fn web_url(url: Option<&str>) -> Option<&str> {
    url.filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

/// The branded e-mail of a customer notice.
pub fn customer_email(
    lang: MessageLanguage,
    branding: &Branding,
    notice: Notice,
    facts: &MessageFacts<'_>,
) -> RenderedEmail {
    let words = wording(lang);
    let brand = branding.name.as_deref().filter(|n| !n.trim().is_empty()).unwrap_or(facts.account_name);
    let (headline, sentence) = notice_words(lang, notice, facts.tracking_numbers.len());
    let greeting = match facts.customer_name.map(str::trim).filter(|n| !n.is_empty()) {
        // Only the first name: a message is friendlier, and carries less, with it alone.
        Some(name) => words.hello_name.replace("{name}", name.split_whitespace().next().unwrap_or(name)),
        None => words.hello.to_string(),
    };
    let parcels = facts.tracking_numbers.join(", ");
    let subject = format!("{brand}: {headline} ({} {})", words.order.to_lowercase(), facts.order_number);

    let detail = facts.detail.map(str::trim).filter(|d| !d.is_empty());
    let mut text = format!("{greeting}\n\n{headline}. {sentence}\n");
    if let Some(detail) = detail {
        text.push_str(&format!("{}: {detail}\n", words.detail));
    }
    text.push_str(&format!("\n{}: {}\n", words.order, facts.order_number));
    if !parcels.is_empty() {
        text.push_str(&format!("{}: {parcels}\n", words.tracking));
    }
    text.push_str(&format!("\n{}: {}\n", words.follow, facts.link));
    let support = web_url(branding.support_url.as_deref()).or(branding.support_email.as_deref());
    if let Some(support) = support {
        text.push_str(&format!("{}: {support}\n", words.help));
    }
    text.push_str(&format!("\n{brand}\n"));

    let colour = branding.page_primary().to_string();
    let logo = match web_url(branding.logo_url.as_deref()) {
        Some(url) => {
            format!("<img src=\"{}\" alt=\"{}\" style=\"max-height:48px;max-width:200px\">", escape(url), escape(brand))
        }
        None => format!("<strong style=\"font-size:20px;color:#ffffff\">{}</strong>", escape(brand)),
    };
    let detail_line = match detail {
        Some(detail) => format!("<p>{}: {}</p>", escape(words.detail), escape(detail)),
        None => String::new(),
    };
    let tracking_line = if parcels.is_empty() {
        String::new()
    } else {
        format!("<p style=\"margin:0 0 8px\">{}: {}</p>", escape(words.tracking), escape(&parcels))
    };
    let help_line = match (web_url(branding.support_url.as_deref()), branding.support_email.as_deref()) {
        (Some(url), _) => {
            format!("<p><a href=\"{}\" style=\"color:{colour}\">{}</a></p>", escape(url), escape(words.help))
        }
        (None, Some(email)) => format!("<p>{}: {}</p>", escape(words.help), escape(email)),
        (None, None) => String::new(),
    };
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{subject}</title></head>\
         <body style=\"margin:0;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:#1f2328\">\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr><td align=\"center\">\
         <table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#ffffff\">\
         <tr><td style=\"background:{colour};padding:16px 24px\">{logo}</td></tr>\
         <tr><td style=\"padding:24px\"><p>{greeting}</p><h1 style=\"font-size:22px;margin:0 0 8px\">{headline}</h1>\
         <p>{sentence}</p>{detail_line}<p style=\"margin:0 0 8px\">{order}: {number}</p>{tracking_line}\
         <p style=\"margin:24px 0\"><a href=\"{link}\" style=\"background:{colour};color:#ffffff;padding:12px 20px;\
         text-decoration:none;border-radius:4px;display:inline-block\">{follow}</a></p>{help_line}</td></tr>\
         <tr><td style=\"padding:16px 24px;font-size:12px;color:#59636e\">{footer}</td></tr>\
         </table></td></tr></table></body></html>",
        lang = lang.code(),
        subject = escape(&subject),
        greeting = escape(&greeting),
        headline = escape(headline),
        sentence = escape(sentence),
        order = escape(words.order),
        number = escape(facts.order_number),
        link = escape(facts.link),
        follow = escape(words.follow),
        footer = escape(branding.footer_text.as_deref().unwrap_or(brand)),
    );
    RenderedEmail { subject, text, html }
}

/// The short SMS of a customer notice: brand, headline, order number and the link.
pub fn customer_sms(lang: MessageLanguage, branding: &Branding, notice: Notice, facts: &MessageFacts<'_>) -> String {
    let brand = branding.name.as_deref().filter(|n| !n.trim().is_empty()).unwrap_or(facts.account_name);
    let (headline, _) = notice_words(lang, notice, facts.tracking_numbers.len());
    let order = wording(lang).order.to_lowercase();
    format!("{brand}: {headline} ({order} {}). {}", facts.order_number, facts.link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use milepost_domain::HexColor;

    fn facts<'a>(tracking: &'a [String]) -> MessageFacts<'a> {
        MessageFacts {
            account_name: "acme",
            order_number: "A-1001",
            customer_name: Some("<b>Ana</b> García"),
            tracking_numbers: tracking,
            link: "https://track.example/t/abc?x=1&y=2",
            detail: None,
        }
    }

    #[test]
    fn a_rejected_return_names_its_reason_escaped_in_both_languages() {
        let tracking: Vec<String> = Vec::new();
        let reasoned = MessageFacts { detail: Some("opened <b>after</b> 30 days"), ..facts(&tracking) };
        let en = customer_email(MessageLanguage::En, &Branding::default(), Notice::ReturnRejected, &reasoned);
        assert!(en.text.contains("Reason: opened <b>after</b> 30 days"), "{}", en.text);
        assert!(en.html.contains("<p>Reason: opened &lt;b&gt;after&lt;/b&gt; 30 days</p>"), "{}", en.html);
        let es = customer_email(MessageLanguage::Es, &Branding::default(), Notice::ReturnRejected, &reasoned);
        assert!(es.text.contains("Motivo: opened"), "{}", es.text);
        let plain = customer_email(MessageLanguage::En, &Branding::default(), Notice::Delivered, &facts(&tracking));
        assert!(!plain.text.contains("Reason"));
    }

    fn branding() -> Branding {
        Branding {
            name: Some("Acme & Co".into()),
            logo_url: Some("https://cdn.example/logo.png".into()),
            primary_color: Some(HexColor::parse("#7a1f5c").unwrap()),
            support_url: Some("https://acme.example/help".into()),
            ..Branding::default()
        }
    }

    #[test]
    fn the_email_carries_the_brand_the_link_and_the_wording_of_its_language() {
        let tracking = vec!["1Z999AA10123456784".to_string()];
        let en = customer_email(MessageLanguage::En, &branding(), Notice::Delivered, &facts(&tracking));
        assert_eq!(en.subject, "Acme & Co: Your order was delivered (order A-1001)");
        assert!(en.text.starts_with("Hello <b>Ana</b>,\n"), "plain text keeps the first name as is: {}", en.text);
        assert!(en.text.contains("https://track.example/t/abc?x=1&y=2"));
        assert!(en.html.contains("background:#7a1f5c"), "brand colour");
        assert!(en.html.contains("<img src=\"https://cdn.example/logo.png\" alt=\"Acme &amp; Co\""));
        assert!(en.html.contains("href=\"https://track.example/t/abc?x=1&amp;y=2\""), "the link, escaped");
        assert!(en.html.contains("<html lang=\"en\">"));
        assert!(en.html.contains("Hello &lt;b&gt;Ana&lt;/b&gt;,") && !en.html.contains("<b>"), "names are escaped");

        let es = customer_email(MessageLanguage::Es, &branding(), Notice::Delivered, &facts(&tracking));
        assert_eq!(es.subject, "Acme & Co: Tu pedido ha sido entregado (pedido A-1001)");
        assert!(es.text.contains("Sigue tu pedido: https://track.example/t/abc?x=1&y=2"), "{}", es.text);
        assert!(es.text.contains("Número de seguimiento: 1Z999AA10123456784"));
        assert!(es.html.contains("<html lang=\"es\">"));
    }

    #[test]
    fn a_split_order_hears_about_its_parcels_together() {
        let tracking = vec!["1Z1".to_string(), "1Z2".to_string(), "1Z3".to_string()];
        let email = customer_email(MessageLanguage::En, &Branding::default(), Notice::Delivered, &facts(&tracking));
        assert!(email.subject.starts_with("acme: Your parcels were delivered"), "{}", email.subject);
        assert!(email.text.contains("Tracking number: 1Z1, 1Z2, 1Z3"));
    }

    #[test]
    fn an_sms_is_short_and_carries_the_link() {
        let tracking = vec!["1Z999AA10123456784".to_string()];
        for lang in MessageLanguage::ALL {
            for notice in Notice::ALL {
                let sms = customer_sms(lang, &branding(), notice, &facts(&tracking));
                assert!(sms.ends_with("https://track.example/t/abc?x=1&y=2"), "{sms}");
                assert!(sms.chars().count() <= 160, "{} chars: {sms}", sms.chars().count());
            }
        }
        assert_eq!(
            customer_sms(MessageLanguage::Es, &branding(), Notice::OutForDelivery, &facts(&tracking)),
            "Acme & Co: Tu pedido está en reparto (pedido A-1001). https://track.example/t/abc?x=1&y=2"
        );
    }

    #[test]
    fn a_logo_that_is_not_a_web_link_is_left_out() {
        let branding = Branding { logo_url: Some("javascript:alert(1)".into()), ..Branding::default() };
        let email = customer_email(MessageLanguage::En, &branding, Notice::Shipped, &facts(&[]));
        assert!(!email.html.contains("javascript:"));
        assert!(email.html.contains("<strong"), "the name stands in for the logo");
    }
}
