//! Languages of the customer pages. All customer wording lives in `i18n/<lang>.toml`, compiled
//! into the binary; this module picks the language (an explicit `?lang=` first, then the
//! browser's `Accept-Language`, then English) and looks wording up by id, filling `{name}`
//! placeholders. A missing id shows the id itself rather than failing a customer's page.

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// `?lang=` when it names a language we have, else the best `Accept-Language` match by
    /// quality, else English.
    pub fn choose(explicit: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(lang) = explicit.and_then(Lang::parse) {
            return lang;
        }
        let mut best: Option<(f32, Lang)> = None;
        for part in accept_language.unwrap_or("").split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("");
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::En)
    }

    /// The wording of `id`.
    pub fn t(self, id: &str) -> &'static str {
        let table = match self {
            Lang::En => &*EN,
            Lang::Es => &*ES,
        };
        table.get(id).copied().or_else(|| EN.get(id).copied()).unwrap_or("")
    }

    /// The wording of `id` with `{name}` placeholders filled.
    pub fn tf(self, id: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(id).to_string();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

type Table = HashMap<String, &'static str>;

fn flatten(prefix: &str, value: &toml::Value, out: &mut Table) {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            // Leaked once per process: the tables live as long as the program.
            out.insert(prefix.to_string(), Box::leak(s.clone().into_boxed_str()));
        }
        _ => {}
    }
}

fn load(text: &str) -> Table {
    let mut table = Table::new();
    // The files are compiled in and checked by the tests below, so a parse error cannot ship.
    if let Ok(document) = toml::from_str::<toml::Table>(text) {
        flatten("", &toml::Value::Table(document), &mut table);
    }
    table
}

static EN: LazyLock<Table> = LazyLock::new(|| load(include_str!("../../i18n/en.toml")));
static ES: LazyLock<Table> = LazyLock::new(|| load(include_str!("../../i18n/es.toml")));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_english_key_and_nothing_else() {
        assert!(EN.len() > 100, "en.toml parsed: {}", EN.len());
        let mut en: Vec<_> = EN.keys().collect();
        let mut es: Vec<_> = ES.keys().collect();
        en.sort();
        es.sort();
        assert_eq!(en, es);
        for (key, value) in ES.iter() {
            assert!(!value.is_empty(), "es {key} is empty");
        }
    }

    #[test]
    fn the_language_comes_from_the_query_then_the_browser() {
        assert_eq!(Lang::choose(Some("es"), Some("en-US")), Lang::Es);
        assert_eq!(Lang::choose(Some("xx"), Some("es-MX,es;q=0.9,en;q=0.8")), Lang::Es);
        assert_eq!(Lang::choose(None, Some("fr-FR,fr;q=0.9,en;q=0.5,es;q=0.7")), Lang::Es);
        assert_eq!(Lang::choose(None, Some("fr")), Lang::En);
        assert_eq!(Lang::choose(None, None), Lang::En);
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(Lang::En.tf("page.title_order", &[("number", "MP-1")]), "Order MP-1");
        assert_eq!(Lang::Es.t("milestone.preparing_shipment"), "Preparando el envío");
    }
}
