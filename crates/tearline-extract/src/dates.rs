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
use regex::{Captures, Regex};

use crate::numbers::CARDINALS;
use crate::text::{before, re, whole_words};

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
    let re = re(&format!(r"(?i)(?:{all})"));
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
    for caps in p.re.captures_iter(text) {
        let Some(m) = caps.get(0) else { continue };
        if !whole_words(text, m.start(), m.end()) {
            continue;
        }
        let hit = Hit {
            text,
            caps: &caps,
            start: m.start(),
            published,
            p,
        };
        if let Some(what) = interpret(&hit) {
            out.push(Found {
                start: m.start(),
                end: m.end(),
                what,
            });
        }
    }
    out
}

/// One match of the date pattern, with what it is resolved against.
struct Hit<'a> {
    /// The whole text searched.
    text: &'a str,
    /// The match's groups.
    caps: &'a Captures<'a>,
    /// Byte offset where the match starts.
    start: usize,
    /// The publication date, if known.
    published: Option<NaiveDate>,
    /// The compiled patterns and word tables.
    p: &'a Patterns,
}

impl<'a> Hit<'a> {
    /// The text of the named group, if it took part in the match.
    fn get(&self, name: &str) -> Option<&'a str> {
        self.caps.name(name).map(|x| x.as_str())
    }

    /// The text of the named group, lower-cased.
    fn lower(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_lowercase)
    }
}

/// What a match means, by the alternative that matched; `None` if it is no date after all.
fn interpret(h: &Hit) -> Option<When> {
    let published = h.published;
    if let Some(keyword) = h.get("until") {
        until(h, keyword)
    } else if let Some(n) = h.lower("win_n") {
        let unit = h.lower("win_u").unwrap_or_default();
        Some(next_n(&n, &unit, published, h.p))
    } else if h.get("coming").is_some() {
        let unit = h
            .lower("coming_u")
            .unwrap_or_else(|| h.lower("coming").unwrap_or_default());
        Some(coming(&unit, published))
    } else if let Some(w) = h.lower("nextweek") {
        Some(next_week(&w, published))
    } else if let Some(iso) = h.get("iso") {
        Some(When::Day {
            date: NaiveDate::parse_from_str(iso, "%Y-%m-%d").ok(),
            part: None,
        })
    } else if let (Some(d), Some(mo)) = (h.get("dm_d"), h.lower("dm_m")) {
        Some(When::Day {
            date: day_of(d, &mo, h.get("dm_y"), published, h.p),
            part: None,
        })
    } else if let (Some(d), Some(mo)) = (h.get("md_d"), h.lower("md_m")) {
        month_day(h, d, &mo)
    } else if let Some(wd) = h.lower("wd") {
        weekday(h, &wd)
    } else if let Some(r) = h.lower("rel") {
        Some(relative(&r, published))
    } else if let Some(n) = h.lower("ago_n") {
        let unit = h.lower("ago_u").unwrap_or_default();
        Some(ago(&n, &unit, published, h.p))
    } else {
        None
    }
}

/// "until 25 March": a window from publication to that day (a `keyword` "to" only after a space).
fn until(h: &Hit, keyword: &str) -> Option<When> {
    let (d, mo) = match (h.get("u_d"), h.lower("u_m")) {
        (Some(d), Some(mo)) => (d, mo),
        _ => match (h.get("u_d2"), h.lower("u_m2")) {
            (Some(d), Some(mo)) => (d, mo),
            _ => return None,
        },
    };
    // "to 25 March" only counts after "from ..." or "valid": too
    // common otherwise.
    if keyword.eq_ignore_ascii_case("to") && !h.text[..h.start].to_lowercase().ends_with(' ') {
        return None;
    }
    let until = day_of(d, &mo, h.get("u_y"), h.published, h.p);
    Some(When::Window {
        from: h.published,
        until,
        grain: "days",
    })
}

/// "over the next 48 hours": a window of `n` `unit`s from publication.
fn next_n(n: &str, unit: &str, published: Option<NaiveDate>, p: &Patterns) -> When {
    let n = number(n, p);
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
}

/// "in the coming days": a window from publication as long as `unit` (or the phrase) suggests.
fn coming(unit: &str, published: Option<NaiveDate>) -> When {
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
}

/// "next week", "this weekend": the week or weekend `w` names, seen from publication.
fn next_week(w: &str, published: Option<NaiveDate>) -> When {
    let Some(pd) = published else {
        return When::Window {
            from: None,
            until: None,
            grain: "weeks",
        };
    };
    let (from, until) = if w.contains("weekend") {
        let sat = next_weekday(pd, Weekday::Sat, w.starts_with("next"));
        (sat, sat + Duration::days(1))
    } else {
        let monday =
            pd - Duration::days(pd.weekday().num_days_from_monday() as i64) + Duration::days(7);
        (monday, monday + Duration::days(6))
    };
    When::Window {
        from: Some(from),
        until: Some(until),
        grain: "weeks",
    }
}

/// "March 22": that day, unless the month is a lower-case "may" ("they may 5 times").
fn month_day(h: &Hit, d: &str, mo: &str) -> Option<When> {
    // "May 5" is a date; "may 5 people" is not: months that are
    // words need a capital.
    if mo == "may" && !h.get("md_m").is_some_and(|x| x.starts_with('M')) {
        return None;
    }
    Some(When::Day {
        date: day_of(d, mo, h.get("md_y"), h.published, h.p),
        part: None,
    })
}

/// "on Friday evening", "next Monday": the day weekday `wd` names, with its part of the day.
fn weekday(h: &Hit, wd: &str) -> Option<When> {
    let &day = h.p.weekdays.get(wd)?;
    let pre = h.lower("wd_pre").unwrap_or_default();
    let post = h.lower("wd_post").unwrap_or_default()
        + h.lower("wd_suffix")
            .map(|s| match s.as_str() {
                "abend" => " evening",
                "morgen" => " morning",
                "nachmittag" => " afternoon",
                _ => " night",
            })
            .unwrap_or_default();
    let part = part_of_day(&pre, &post);
    let lead = before(h.text, h.start, 40).to_lowercase();
    let future = speaks_of_future(&pre, &post, &lead);
    let date = h
        .published
        .map(|pd| weekday_from(pd, day, &pre, &post, future));
    Some(When::Day { date, part })
}

/// The part of the day named by the words before (`pre`) and after (`post`) a weekday.
fn part_of_day(pre: &str, post: &str) -> Option<&'static str> {
    if pre.contains("hours") {
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
    }
}

/// Whether a weekday is still to come, by the words around it and the text before it (`lead`).
fn speaks_of_future(pre: &str, post: &str, lead: &str) -> bool {
    pre.starts_with("next")
        || pre.contains("coming")
        || pre.contains("prochain")
        || pre.contains("nächsten")
        || pre.contains("próximo")
        || pre.contains("следующ")
        || post.contains("prochain")
        || (!pre.starts_with("last") && FUTURE_CUES.iter().any(|c| lead.contains(c)))
}

/// The date of weekday `day` seen from `pd`: past after "last", else ahead if `future`, else past.
fn weekday_from(pd: NaiveDate, day: Weekday, pre: &str, post: &str, future: bool) -> NaiveDate {
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
}

/// "yesterday", "tonight": a day relative to publication, with its part of the day.
fn relative(r: &str, published: Option<NaiveDate>) -> When {
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
}

/// "three days ago": the day `n` `unit`s before publication.
fn ago(n: &str, unit: &str, published: Option<NaiveDate>, p: &Patterns) -> When {
    let n = number(n, p) as i64;
    let days = if unit.starts_with("week") { 7 * n } else { n };
    When::Day {
        date: published.map(|d| d - Duration::days(days)),
        part: None,
    }
}

/// The value of a number in digits or words (1 if it is neither).
fn number(s: &str, p: &Patterns) -> u32 {
    s.parse()
        .ok()
        .or_else(|| p.numbers.get(s).copied())
        .unwrap_or(1)
}

/// Day `d` of `month`, in `year` or else in the year nearest publication.
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
