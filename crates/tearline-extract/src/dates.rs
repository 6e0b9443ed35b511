//! Dates, times of day and validity windows, resolved against the
//! publication date.
//!
//! Absolute dates ("22 March 2024", "March 22", "2024-03-22", "22 марта")
//! take the year that puts them nearest the publication date when the
//! text gives none. Weekdays ("on Friday", "last Tuesday", "the early
//! hours of Friday") are the most recent such day on or before
//! publication, or the next one after it when the text says "next" or
//! speaks of the future. Windows ("over the next 48 hours", "in the coming
//! days", "until 25 March") run from publication to their end.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use regex::Regex;

use crate::figures::CARDINALS;

/// A date or window found in a text (byte offsets).
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub start: usize,
    pub end: usize,
    pub what: When,
}

#[derive(Debug, Clone)]
pub(crate) enum When {
    /// A day, with what part of it if the text says.
    Day {
        date: Option<NaiveDate>,
        part: Option<&'static str>,
    },
    /// A window: from, until (both inclusive days), and its grain.
    Window {
        from: Option<NaiveDate>,
        until: Option<NaiveDate>,
        grain: &'static str,
    },
}

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("janvier", 1),
    ("januar", 1),
    ("enero", 1),
    ("января", 1),
    ("январь", 1),
    ("february", 2),
    ("feb", 2),
    ("février", 2),
    ("fevrier", 2),
    ("februar", 2),
    ("febrero", 2),
    ("февраля", 2),
    ("февраль", 2),
    ("march", 3),
    ("mar", 3),
    ("mars", 3),
    ("märz", 3),
    ("marz", 3),
    ("marzo", 3),
    ("марта", 3),
    ("март", 3),
    ("april", 4),
    ("apr", 4),
    ("avril", 4),
    ("abril", 4),
    ("апреля", 4),
    ("апрель", 4),
    ("may", 5),
    ("mai", 5),
    ("mayo", 5),
    ("мая", 5),
    ("май", 5),
    ("june", 6),
    ("jun", 6),
    ("juin", 6),
    ("juni", 6),
    ("junio", 6),
    ("июня", 6),
    ("июнь", 6),
    ("july", 7),
    ("jul", 7),
    ("juillet", 7),
    ("juli", 7),
    ("julio", 7),
    ("июля", 7),
    ("июль", 7),
    ("august", 8),
    ("aug", 8),
    ("août", 8),
    ("aout", 8),
    ("agosto", 8),
    ("августа", 8),
    ("август", 8),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("septembre", 9),
    ("septiembre", 9),
    ("сентября", 9),
    ("сентябрь", 9),
    ("october", 10),
    ("oct", 10),
    ("octobre", 10),
    ("oktober", 10),
    ("octubre", 10),
    ("октября", 10),
    ("октябрь", 10),
    ("november", 11),
    ("nov", 11),
    ("novembre", 11),
    ("noviembre", 11),
    ("ноября", 11),
    ("ноябрь", 11),
    ("december", 12),
    ("dec", 12),
    ("décembre", 12),
    ("decembre", 12),
    ("dezember", 12),
    ("diciembre", 12),
    ("декабря", 12),
    ("декабрь", 12),
];

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("monday", Weekday::Mon),
    ("lundi", Weekday::Mon),
    ("montag", Weekday::Mon),
    ("lunes", Weekday::Mon),
    ("понедельник", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("mardi", Weekday::Tue),
    ("dienstag", Weekday::Tue),
    ("martes", Weekday::Tue),
    ("вторник", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("mercredi", Weekday::Wed),
    ("mittwoch", Weekday::Wed),
    ("miércoles", Weekday::Wed),
    ("miercoles", Weekday::Wed),
    ("среду", Weekday::Wed),
    ("среда", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("jeudi", Weekday::Thu),
    ("donnerstag", Weekday::Thu),
    ("jueves", Weekday::Thu),
    ("четверг", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("vendredi", Weekday::Fri),
    ("freitag", Weekday::Fri),
    ("viernes", Weekday::Fri),
    ("пятницу", Weekday::Fri),
    ("пятница", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("samedi", Weekday::Sat),
    ("samstag", Weekday::Sat),
    ("sábado", Weekday::Sat),
    ("sabado", Weekday::Sat),
    ("субботу", Weekday::Sat),
    ("суббота", Weekday::Sat),
    ("sunday", Weekday::Sun),
    ("dimanche", Weekday::Sun),
    ("sonntag", Weekday::Sun),
    ("domingo", Weekday::Sun),
    ("воскресенье", Weekday::Sun),
];

/// Vague quantities a window may be given in, beside the number words.
const VAGUE: &[(&str, u64)] = &[("a few", 3), ("several", 5), ("few", 3)];

fn alternation(words: impl Iterator<Item = &'static str>) -> String {
    let mut w: Vec<&str> = words.collect();
    w.sort_by_key(|s| std::cmp::Reverse(s.len()));
    w.iter()
        .map(|s| regex::escape(s))
        .collect::<Vec<_>>()
        .join("|")
}

struct Patterns {
    re: Regex,
    months: HashMap<&'static str, u32>,
    weekdays: HashMap<&'static str, Weekday>,
    numbers: HashMap<&'static str, u32>,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let m = alternation(MONTHS.iter().map(|(n, _)| *n));
    let wd = alternation(WEEKDAYS.iter().map(|(n, _)| *n));
    let num = alternation(CARDINALS.iter().chain(VAGUE).map(|(n, _)| *n));
    let day_month = format!(
        r"(?P<dm_d>\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+(?:of\s+|de\s+)?(?P<dm_m>{m})\.?(?:,?\s+(?:de\s+)?(?P<dm_y>(?:19|20)\d\d))?"
    );
    let month_day = format!(
        r"(?P<md_m>{m})\.?\s+(?P<md_d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<md_y>(?:19|20)\d\d))?"
    );
    let iso = r"(?P<iso>(?:19|20)\d\d-[01]\d-[0-3]\d)";
    let weekday = format!(
        r"(?P<wd_pre>(?:the\s+)?(?:early|small)\s+hours\s+of\s+|(?:last|next|this|this\s+coming|coming|on|dernier|prochain|letzten|nächsten|el\s+pasado|el\s+próximo|в\s+прошлую|в\s+следующую|в)\s+)?(?P<wd>{wd})(?P<wd_suffix>abend|morgen|nachmittag|nacht)?(?P<wd_post>\s+(?:morning|afternoon|evening|night|matin|soir|abend|morgen|noche|mañana|dernier|prochain))?"
    );
    let relative = r"(?P<rel>yesterday|today|tonight|last\s+night|tomorrow|earlier\s+today|this\s+morning|this\s+evening|hier|aujourd'hui|demain|gestern|heute|morgen|ayer|hoy|mañana|вчера|сегодня|завтра)";
    let ago = format!(r"(?P<ago_n>\d{{1,2}}|{num})\s+(?P<ago_u>days?|weeks?)\s+ago");
    let window = format!(
        r"(?P<win_pre>over|within|in|during|for)\s+the\s+(?:next|coming|following)\s+(?P<win_n>\d{{1,3}}|{num})\s+(?P<win_u>hours?|days?|weeks?|months?)"
    );
    let coming = r"(?P<coming>in\s+the\s+(?:coming|next\s+few|days\s+ahead|weeks\s+ahead)(?:\s+(?P<coming_u>days|weeks|months))?|dans\s+les\s+(?:prochains\s+jours|prochaines\s+semaines|jours\s+à\s+venir)|in\s+den\s+kommenden\s+(?:Tagen|Wochen)|en\s+los\s+próximos\s+días|в\s+ближайшие\s+(?:дни|часы|недели))";
    let until = format!(
        r"(?P<until>until|through|till|to|until\s+at\s+least|jusqu'au|bis\s+zum|hasta\s+el|до)\s+(?:(?P<u_d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<u_m>{m})|(?P<u_m2>{m})\s+(?P<u_d2>\d{{1,2}})(?:st|nd|rd|th)?)(?:,?\s+(?P<u_y>(?:19|20)\d\d))?"
    );
    let next_week = r"(?P<nextweek>next\s+week|this\s+weekend|next\s+weekend|la\s+semaine\s+prochaine|nächste\s+Woche|la\s+próxima\s+semana|на\s+следующей\s+неделе)";
    let all = [
        until.as_str(),
        window.as_str(),
        coming,
        next_week,
        iso,
        day_month.as_str(),
        month_day.as_str(),
        weekday.as_str(),
        relative,
        ago.as_str(),
    ]
    .join("|");
    // No `\b` here: a Unicode word boundary makes the fast engines give up
    // on the first non-ASCII byte; `find` checks the boundaries instead.
    let re = crate::rules::re(&format!(r"(?i)(?:{all})"));
    Patterns {
        re,
        months: MONTHS.iter().copied().collect(),
        weekdays: WEEKDAYS.iter().copied().collect(),
        numbers: CARDINALS
            .iter()
            .chain(VAGUE)
            .map(|&(w, n)| (w, n as u32))
            .collect(),
    }
});

const FUTURE_CUES: &[&str] = &[
    "will ",
    "planned",
    "planning",
    "plans ",
    "plan to",
    "expected",
    "scheduled",
    "could ",
    "may ",
    "might ",
    "threat",
    "warn",
];

/// Finds every date and window in `text`.
pub(crate) fn find(text: &str, published: Option<NaiveDate>) -> Vec<Found> {
    let p = &*PATTERNS;
    let mut out = Vec::new();
    for c in p.re.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if !crate::rules::whole_words(text, m.start(), m.end()) {
            continue;
        }
        let lower = |name: &str| c.name(name).map(|x| x.as_str().to_lowercase());
        let what = if let Some(u) = c.name("until") {
            let (d, mo) = match (c.name("u_d"), lower("u_m")) {
                (Some(d), Some(mo)) => (d.as_str(), mo),
                _ => match (c.name("u_d2"), lower("u_m2")) {
                    (Some(d), Some(mo)) => (d.as_str(), mo),
                    _ => continue,
                },
            };
            // "to 25 March" only counts after "from ..." or "valid": too
            // common otherwise.
            if u.as_str().eq_ignore_ascii_case("to")
                && !text[..m.start()].to_lowercase().ends_with(' ')
            {
                continue;
            }
            let until = day_of(d, &mo, c.name("u_y").map(|y| y.as_str()), published, p);
            When::Window {
                from: published,
                until,
                grain: "days",
            }
        } else if let Some(n) = lower("win_n") {
            let n = number(&n, p);
            let unit = lower("win_u").unwrap_or_default();
            let (days, grain) = match unit.trim_end_matches('s') {
                "hour" => ((n as i64 + 23) / 24, "hours"),
                "day" => (n as i64, "days"),
                "week" => (7 * n as i64, "weeks"),
                _ => (30 * n as i64, "months"),
            };
            When::Window {
                from: published,
                until: published.map(|d| d + Duration::days(days)),
                grain,
            }
        } else if c.name("coming").is_some() {
            let unit = lower("coming_u").unwrap_or_else(|| lower("coming").unwrap_or_default());
            let (days, grain) = if unit.contains("week")
                || unit.contains("semaine")
                || unit.contains("woche")
                || unit.contains("недел")
            {
                (28, "weeks")
            } else if unit.contains("month") {
                (90, "months")
            } else if unit.contains("час") {
                (2, "hours")
            } else {
                (7, "days")
            };
            When::Window {
                from: published,
                until: published.map(|d| d + Duration::days(days)),
                grain,
            }
        } else if let Some(w) = lower("nextweek") {
            let Some(pd) = published else {
                out.push(Found {
                    start: m.start(),
                    end: m.end(),
                    what: When::Window {
                        from: None,
                        until: None,
                        grain: "weeks",
                    },
                });
                continue;
            };
            let (from, until) = if w.contains("weekend") {
                let sat = next_weekday(pd, Weekday::Sat, w.starts_with("next"));
                (sat, sat + Duration::days(1))
            } else {
                let monday = pd - Duration::days(pd.weekday().num_days_from_monday() as i64)
                    + Duration::days(7);
                (monday, monday + Duration::days(6))
            };
            When::Window {
                from: Some(from),
                until: Some(until),
                grain: "weeks",
            }
        } else if let Some(iso) = c.name("iso") {
            When::Day {
                date: NaiveDate::parse_from_str(iso.as_str(), "%Y-%m-%d").ok(),
                part: None,
            }
        } else if let (Some(d), Some(mo)) = (c.name("dm_d"), lower("dm_m")) {
            When::Day {
                date: day_of(
                    d.as_str(),
                    &mo,
                    c.name("dm_y").map(|y| y.as_str()),
                    published,
                    p,
                ),
                part: None,
            }
        } else if let (Some(d), Some(mo)) = (c.name("md_d"), lower("md_m")) {
            // "May 5" is a date; "may 5 people" is not: months that are
            // words need a capital.
            if mo == "may" && !c.name("md_m").is_some_and(|x| x.as_str().starts_with('M')) {
                continue;
            }
            When::Day {
                date: day_of(
                    d.as_str(),
                    &mo,
                    c.name("md_y").map(|y| y.as_str()),
                    published,
                    p,
                ),
                part: None,
            }
        } else if let Some(wd) = lower("wd") {
            let Some(&day) = p.weekdays.get(wd.as_str()) else {
                continue;
            };
            let pre = lower("wd_pre").unwrap_or_default();
            let post = lower("wd_post").unwrap_or_default()
                + lower("wd_suffix")
                    .map(|s| match s.as_str() {
                        "abend" => " evening",
                        "morgen" => " morning",
                        "nachmittag" => " afternoon",
                        _ => " night",
                    })
                    .unwrap_or_default();
            let part = if pre.contains("hours") {
                Some("early hours")
            } else if post.contains("morning")
                || post.contains("matin")
                || post.contains("mañana")
                || post.contains("morgen")
            {
                Some("morning")
            } else if post.contains("afternoon") {
                Some("afternoon")
            } else if post.contains("evening") || post.contains("soir") || post.contains("abend") {
                Some("evening")
            } else if post.contains("night") || post.contains("noche") {
                Some("night")
            } else {
                None
            };
            let before = crate::rules::before(text, m.start(), 40).to_lowercase();
            let future = pre.starts_with("next")
                || pre.contains("coming")
                || pre.contains("prochain")
                || pre.contains("nächsten")
                || pre.contains("próximo")
                || pre.contains("следующ")
                || post.contains("prochain")
                || (!pre.starts_with("last") && FUTURE_CUES.iter().any(|c| before.contains(c)));
            let date = published.map(|pd| {
                if pre.starts_with("last")
                    || pre.contains("dernier")
                    || pre.contains("letzten")
                    || pre.contains("pasado")
                    || pre.contains("прошл")
                    || post.contains("dernier")
                {
                    previous_weekday(pd, day, true)
                } else if future {
                    next_weekday(pd, day, pre.starts_with("next"))
                } else {
                    previous_weekday(pd, day, false)
                }
            });
            When::Day { date, part }
        } else if let Some(r) = lower("rel") {
            let r = r.split_whitespace().collect::<Vec<_>>().join(" ");
            let (offset, part) = match r.as_str() {
                "yesterday" | "hier" | "gestern" | "ayer" | "вчера" => (-1, None),
                "last night" => (-1, Some("night")),
                "tomorrow" | "demain" | "morgen" | "mañana" | "завтра" => (1, None),
                "tonight" => (0, Some("night")),
                "this morning" => (0, Some("morning")),
                "this evening" => (0, Some("evening")),
                _ => (0, None),
            };
            // "morgen"/"mañana" are also "morning": only as a whole day
            // when standing alone is too ambiguous; keep them.
            When::Day {
                date: published.map(|d| d + Duration::days(offset)),
                part,
            }
        } else if let Some(n) = lower("ago_n") {
            let n = number(&n, p) as i64;
            let unit = lower("ago_u").unwrap_or_default();
            let days = if unit.starts_with("week") { 7 * n } else { n };
            When::Day {
                date: published.map(|d| d - Duration::days(days)),
                part: None,
            }
        } else {
            continue;
        };
        out.push(Found {
            start: m.start(),
            end: m.end(),
            what,
        });
    }
    out
}

fn number(s: &str, p: &Patterns) -> u32 {
    s.parse()
        .ok()
        .or_else(|| p.numbers.get(s).copied())
        .unwrap_or(1)
}

fn day_of(
    d: &str,
    month: &str,
    year: Option<&str>,
    published: Option<NaiveDate>,
    p: &Patterns,
) -> Option<NaiveDate> {
    let d: u32 = d.parse().ok()?;
    let mo = *p.months.get(month.trim_end_matches('.'))?;
    if let Some(y) = year.and_then(|y| y.parse::<i32>().ok()) {
        return NaiveDate::from_ymd_opt(y, mo, d);
    }
    let pd = published?;
    // The year that puts the date nearest the publication date.
    [pd.year() - 1, pd.year(), pd.year() + 1]
        .iter()
        .filter_map(|&y| NaiveDate::from_ymd_opt(y, mo, d))
        .min_by_key(|c| (*c - pd).num_days().abs())
}

/// The most recent `day` on or before `from` (strictly before if `strict`).
fn previous_weekday(from: NaiveDate, day: Weekday, strict: bool) -> NaiveDate {
    let mut back =
        (7 + from.weekday().num_days_from_monday() as i64 - day.num_days_from_monday() as i64) % 7;
    if back == 0 && strict {
        back = 7;
    }
    from - Duration::days(back)
}

/// The next `day` after `from` (on `from` itself unless `strict`).
fn next_weekday(from: NaiveDate, day: Weekday, strict: bool) -> NaiveDate {
    let mut ahead =
        (7 + day.num_days_from_monday() as i64 - from.weekday().num_days_from_monday() as i64) % 7;
    if ahead == 0 && strict {
        ahead = 7;
    }
    from + Duration::days(ahead)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(text: &str, published: &str) -> Vec<String> {
        let pd = NaiveDate::parse_from_str(published, "%Y-%m-%d").ok();
        find(text, pd)
            .into_iter()
            .map(|f| match f.what {
                When::Day { date, part } => format!(
                    "{}{}",
                    date.map(|d| d.to_string()).unwrap_or_default(),
                    part.map(|p| format!(" {p}")).unwrap_or_default()
                ),
                When::Window { from, until, grain } => format!(
                    "{}..{} {grain}",
                    from.map(|d| d.to_string()).unwrap_or_default(),
                    until.map(|d| d.to_string()).unwrap_or_default()
                ),
            })
            .collect()
    }

    #[test]
    fn resolves_against_publication() {
        // 2024-03-23 was a Saturday.
        assert_eq!(
            days("Gunmen attacked on Friday evening.", "2024-03-23"),
            ["2024-03-22 evening"]
        );
        assert_eq!(
            days("in the early hours of Friday", "2024-03-23"),
            ["2024-03-22 early hours"]
        );
        assert_eq!(days("last Tuesday", "2024-03-23"), ["2024-03-19"]);
        assert_eq!(days("on 22 March", "2024-03-23"), ["2024-03-22"]);
        assert_eq!(days("on March 7, 2024", "2024-03-23"), ["2024-03-07"]);
        assert_eq!(days("on 28 December", "2025-01-03"), ["2024-12-28"]);
        assert_eq!(
            days("over the next 48 hours", "2024-03-07"),
            ["2024-03-07..2024-03-09 hours"]
        );
        assert_eq!(
            days("in the coming days", "2024-03-07"),
            ["2024-03-07..2024-03-14 days"]
        );
        assert_eq!(
            days("The group will strike on Saturday", "2024-03-07"),
            ["2024-03-09"]
        );
        assert_eq!(days("yesterday", "2024-03-23"), ["2024-03-22"]);
        assert_eq!(
            days("в пятницу 22 марта", "2024-03-23"),
            ["2024-03-22", "2024-03-22"]
        );
        assert_eq!(
            days("valid until 9 March", "2024-03-07"),
            ["2024-03-07..2024-03-09 days"]
        );
        assert_eq!(days("they may 5 times", "2024-03-07"), Vec::<String>::new());
    }
}
