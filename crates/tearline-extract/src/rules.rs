//! The reading pipeline: gazetteer matches, rule-based entities, dates,
//! figures, then people's later mentions, parents, and statements.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::fold::Folded;
use crate::gate::{self, Rule};
use crate::kb::{casing_ok, slug, Kb};
use crate::text::{re, whole_words};
use crate::{dates, figures, Context, Entity, EntityKind, PlaceKind};

pub(crate) fn read(kb: &Kb, text: &str, ctx: &Context) -> Vec<Entity> {
    let folded = Folded::new(text);
    let bounds = sentences(text);
    let marks = gate::marks(&folded, &bounds);
    // Each rule reads only the sentences holding one of its words.
    let each = |rule: Rule, f: &mut dyn FnMut(&str, usize)| {
        for (s, e) in gate::runs(&bounds, &marks, rule) {
            f(&text[s..e], s);
        }
    };
    let mut found = gazetteer(kb, text, &folded);
    let mut ruled = Vec::new();
    each(Rule::Venues, &mut |t, base| {
        ruled.extend(shifted(venues(t), base))
    });
    each(Rule::Orgs, &mut |t, base| {
        ruled.extend(shifted(orgs(t), base))
    });
    each(Rule::People, &mut |t, base| {
        ruled.extend(shifted(people(t), base))
    });
    found.extend(ruled);
    let mut new_groups = Vec::new();
    each(Rule::NewGroups, &mut |t, base| {
        new_groups.extend(unknown_groups(kb, t, base, &found));
    });
    found.extend(new_groups);
    let mut times = Vec::new();
    each(Rule::Dates, &mut |t, base| {
        times.extend(dates::find(t, ctx.published).into_iter().map(|mut f| {
            f.start += base;
            f.end += base;
            f
        }));
    });
    found.extend(times.into_iter().map(date_entity(text)));
    let mut figs = Vec::new();
    each(Rule::Figures, &mut |t, base| {
        figs.extend(figures::find(t).into_iter().map(|mut f| {
            f.start += base;
            f.end += base;
            f
        }));
    });
    found.extend(figs.into_iter().map(|f| {
        let mut e = Entity::new(
            f.start,
            f.end,
            EntityKind::Casualty,
            &text[f.start..f.end],
            format!("casualty:{:?}", f.figure.counts).to_lowercase(),
            format!("{:?}", f.figure.counts).to_lowercase(),
        );
        e.figure = Some(f.figure);
        e
    }));
    // A city inside a venue's name ("Manchester Arena") is the venue's
    // city, though the venue's match covers it.
    let inner: Vec<(usize, usize, String, String, Option<String>)> = found
        .iter()
        .filter(|e| e.place_kind == Some(PlaceKind::City))
        .map(|e| {
            (
                e.byte_start,
                e.byte_end,
                e.id.clone(),
                e.name.clone(),
                e.country.clone(),
            )
        })
        .collect();
    let mut kept = resolve_overlaps(found);
    for e in kept.iter_mut().filter(|e| {
        matches!(
            e.place_kind,
            Some(PlaceKind::Venue | PlaceKind::District | PlaceKind::Facility)
        ) && e.parent.is_none()
    }) {
        if let Some(c) = inner
            .iter()
            .find(|c| c.0 >= e.byte_start && c.1 <= e.byte_end)
        {
            e.parent = Some(c.2.clone());
            e.parent_name = Some(c.3.clone());
            e.country = c.4.clone();
        }
    }
    headline_venues(text, &mut kept);
    anchor_windows(text, &mut kept, ctx);
    link_surnames(text, &mut kept);
    link_new_groups(text, &mut kept);
    kept.sort_by_key(|e| (e.byte_start, std::cmp::Reverse(e.byte_end)));
    parents(kb, &mut kept);
    let said: Vec<(usize, usize)> = bounds
        .iter()
        .zip(&marks)
        .filter(|(_, m)| *m & Rule::Statements as u8 != 0)
        .map(|(b, _)| *b)
        .collect();
    let statements = statements(text, &said, &kept);
    kept.extend(statements);
    // Nothing in a page's boilerplate (menus, credits, other stories) is
    // the article's.
    let cut = crate::boiler::boilerplate(text);
    if !cut.is_empty() {
        kept.retain(|e| {
            let i = cut.partition_point(|r| r.end <= e.byte_start);
            cut.get(i).is_none_or(|r| e.byte_start < r.start)
        });
    }
    crate::events::mark_other_event_figures(text, &folded, &bounds, &mut kept, ctx.published);
    kept.extend(crate::events::event(text, &folded, &kept, &cut));
    kept.sort_by_key(|e| {
        (
            e.byte_start,
            e.kind == EntityKind::Statement,
            std::cmp::Reverse(e.byte_end),
        )
    });
    kept
}

/// Entities found in a slice starting at byte `base`, with offsets in the
/// whole text.
fn shifted(mut v: Vec<Entity>, base: usize) -> Vec<Entity> {
    for e in &mut v {
        e.byte_start += base;
        e.byte_end += base;
    }
    v
}

/// A window stated in the same sentence after a date ("warned on March 7
/// ... over the next 48 hours") runs from that date, not from publication.
fn anchor_windows(text: &str, kept: &mut [Entity], ctx: &Context) {
    let Some(published) = ctx.published else {
        return;
    };
    let bounds = sentences(text);
    let days: Vec<(usize, chrono::NaiveDate)> = kept
        .iter()
        .filter(|e| e.kind == EntityKind::Date)
        .filter_map(|e| Some((e.byte_start, e.date.as_deref()?.parse().ok()?)))
        .collect();
    for e in kept.iter_mut().filter(|e| e.kind == EntityKind::Window) {
        let (Some(from), Some(until)) = (
            e.from
                .as_deref()
                .and_then(|d| d.parse::<chrono::NaiveDate>().ok()),
            e.until
                .as_deref()
                .and_then(|d| d.parse::<chrono::NaiveDate>().ok()),
        ) else {
            continue;
        };
        if from != published {
            continue;
        }
        let Some(&(ss, _)) = bounds
            .iter()
            .find(|(s, en)| *s <= e.byte_start && e.byte_start < *en)
        else {
            continue;
        };
        if let Some(&(_, anchor)) = days.iter().rfind(|(at, _)| *at >= ss && *at < e.byte_start) {
            let len = until - from;
            e.from = Some(anchor.to_string());
            e.until = Some((anchor + len).to_string());
            e.name = format!("{}..{}", anchor, anchor + len);
            e.id = format!("window:{}", e.name);
        }
    }
}

/// Rule-found entities have priority 1, gazetteer entries 2: on the same
/// span the gazetteer wins.
fn resolve_overlaps(found: Vec<Entity>) -> Vec<Entity> {
    // Names (groups, people, places...) and values (dates, windows,
    // figures) are resolved apart: "the death toll from Tuesday's attacks
    // on Brussels Airport rose to 28" is a figure holding a date and a place.
    let (figures, rest): (Vec<Entity>, Vec<Entity>) = found
        .into_iter()
        .partition(|e| e.kind == EntityKind::Casualty);
    let (times, names): (Vec<Entity>, Vec<Entity>) = rest
        .into_iter()
        .partition(|e| matches!(e.kind, EntityKind::Date | EntityKind::Window));
    let mut kept = non_overlapping(names);
    kept.extend(non_overlapping(times));
    kept.extend(non_overlapping(figures));
    kept
}

fn non_overlapping(mut found: Vec<Entity>) -> Vec<Entity> {
    found.sort_by_key(|e| {
        (
            e.byte_start,
            std::cmp::Reverse(e.byte_end),
            std::cmp::Reverse(priority(e)),
        )
    });
    let mut kept: Vec<Entity> = Vec::with_capacity(found.len());
    for e in found {
        // Sorted by start, so only the latest kept spans can overlap.
        if kept
            .iter()
            .rev()
            .take(8)
            .any(|k| k.byte_start < e.byte_end && e.byte_start < k.byte_end)
        {
            continue;
        }
        kept.push(e);
    }
    kept
}

fn priority(e: &Entity) -> u8 {
    match e.kind {
        EntityKind::Date | EntityKind::Window | EntityKind::Casualty => 3,
        _ if e.id.starts_with("group:new:") || e.id.starts_with("venue:") => 1,
        EntityKind::Person => 1,
        _ => 2,
    }
}

const PREPOSITIONS: &[&str] = &[
    "in", "at", "near", "from", "to", "of", "outside", "into", "around", "across", "towards",
    "toward", "between", "and", "via", "à", "en", "nach", "bei", "aus",
];

/// A gazetteer match: original byte range and the entries it can mean
/// (with whether the name is the entry's own).
type Hit = (usize, usize, Vec<(u32, bool)>);

/// The entries a match of pattern `p` at folded `fs..fe` can mean, given
/// how the text writes it; empty if none.
fn carriers(kb: &Kb, text: &str, f: &Folded, p: usize, fs: usize, fe: usize) -> Option<Hit> {
    let before = f.text[..fs].chars().next_back();
    let after = f.text[fe..].chars().next();
    if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
        return None;
    }
    let pat = &kb.patterns[p];
    let (s, e) = f.original(fs, fe);
    let surface = &text[s..e];
    let after_preposition = || {
        let prev = text[..s].split_whitespace().next_back().unwrap_or("");
        PREPOSITIONS.iter().any(|p| p.eq_ignore_ascii_case(prev))
    };
    let carriers: Vec<(u32, bool)> = pat
        .entries
        .iter()
        .filter(|c| casing_ok(c.casing, &c.written, surface))
        .filter(|c| !c.needs_context || after_preposition())
        .map(|c| (c.entry, c.primary))
        .collect();
    (!carriers.is_empty()).then_some((s, e, carriers))
}

fn gazetteer(kb: &Kb, text: &str, f: &Folded) -> Vec<Entity> {
    let mut hits: Vec<Hit> = Vec::new();
    for m in kb.automaton.find_iter(&f.text) {
        let (fs, fe) = (m.start(), m.end());
        if let Some(h) = carriers(kb, text, f, m.pattern().as_usize(), fs, fe) {
            hits.push(h);
            continue;
        }
        // The longest name here is written wrongly: the longest shorter one
        // starting at the same place that is written right.
        let fallback = kb
            .overlapping
            .find_overlapping_iter(&f.text[fs..fe])
            .filter(|o| o.start() == 0 && o.end() < fe - fs)
            .filter_map(|o| carriers(kb, text, f, o.pattern().as_usize(), fs, fs + o.end()))
            .max_by_key(|h| h.1);
        hits.extend(fallback);
    }
    // Countries named in the text decide between places of one name.
    let countries: HashSet<&str> = hits
        .iter()
        .flat_map(|h| h.2.iter())
        .map(|&(i, _)| kb.entry(i))
        .filter(|e| e.place_kind == Some(PlaceKind::Country))
        .filter_map(|e| e.country.as_deref())
        .collect();
    hits.into_iter()
        .filter_map(|(s, e, carriers)| {
            let best = carriers
                .iter()
                .map(|&(i, primary)| (kb.entry(i), primary))
                .max_by_key(|&(en, primary)| {
                    // A place's own name beats another place's old or foreign
                    // name for it ("Islamabad" is a city, and once Chittagong).
                    let in_doc = en.country.as_deref().is_some_and(|c| countries.contains(c));
                    let rank = match (en.kind, en.place_kind) {
                        (EntityKind::Group, _) => 6,
                        (EntityKind::Org, _) => 5,
                        (_, Some(PlaceKind::Country)) => 4,
                        (_, Some(PlaceKind::City)) => 3,
                        (_, Some(PlaceKind::Region)) => 2,
                        _ => 1,
                    };
                    (in_doc, primary, rank, en.population)
                })?
                .0;
            let mut ent = Entity::new(
                s,
                e,
                best.kind,
                &text[s..e],
                best.id.clone(),
                best.name.clone(),
            );
            ent.place_kind = best.place_kind;
            ent.parent = best.parent.clone();
            ent.country = best.country.clone();
            if best.kind == EntityKind::Org {
                ent.role = best.tags.first().cloned();
            }
            Some(ent)
        })
        .collect()
}

fn date_entity(text: &str) -> impl Fn(dates::Found) -> Entity + '_ {
    move |f| match f.what {
        dates::When::Day { date, part } => {
            let d = date.map(|d| d.to_string());
            let mut e = Entity::new(
                f.start,
                f.end,
                EntityKind::Date,
                &text[f.start..f.end],
                format!("date:{}", d.as_deref().unwrap_or("unresolved")),
                d.clone().unwrap_or_else(|| "unresolved".into()),
            );
            e.date = d;
            e.part_of_day = part.map(str::to_string);
            e
        }
        dates::When::Window { from, until, grain } => {
            let from = from.map(|d| d.to_string());
            let until = until.map(|d| d.to_string());
            let name = format!(
                "{}..{}",
                from.as_deref().unwrap_or("?"),
                until.as_deref().unwrap_or("?")
            );
            let mut e = Entity::new(
                f.start,
                f.end,
                EntityKind::Window,
                &text[f.start..f.end],
                format!("window:{name}"),
                name,
            );
            e.from = from;
            e.until = until;
            e.grain = Some(grain.to_string());
            e
        }
    }
}

const LEADING_STOP: &[&str] = &[
    "The",
    "In",
    "At",
    "On",
    "A",
    "An",
    "Near",
    "From",
    "To",
    "After",
    "Before",
    "When",
    "While",
    "Outside",
    "Inside",
    "Since",
    "By",
    "Of",
    "For",
    "And",
    "But",
    "Then",
    "Yesterday",
    "Today",
    "Last",
    "Next",
    "This",
    "That",
    "Police",
    "Officials",
    "Witnesses",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "According",
    "Earlier",
    "Later",
    "Meanwhile",
    "However",
    "Gunmen",
    "Attackers",
];

/// Drops leading sentence words from a capitalised run; returns the byte
/// offset of what is left within `s`.
fn trim_leading(s: &str) -> usize {
    let mut off = 0;
    loop {
        let rest = &s[off..];
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_end];
        if word_end < rest.len() && LEADING_STOP.contains(&word) {
            off += word_end;
            off += s[off..].len() - s[off..].trim_start().len();
        } else {
            return off;
        }
    }
}

/// Function words a headline capitalises; never inside a venue's name.
const TITLE_STOP: &[&str] = &[
    "The", "A", "An", "Of", "At", "In", "On", "To", "For", "And", "As", "After", "Before", "Near",
    "Outside", "Inside", "From", "With", "By",
];

/// Whether the line around byte `at` is written in title case (a
/// headline): five words or more, and most words of four letters or more
/// capitalised.
fn title_case_line(text: &str, at: usize) -> bool {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = &text[start..end];
    let words: Vec<&str> = line.split_whitespace().collect();
    let long: Vec<&&str> = words
        .iter()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 4)
        .collect();
    let caps = long
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .count();
    words.len() >= 5 && long.len() >= 3 && caps * 5 >= long.len() * 4
}

/// Drops venues named only in title-case lines: a headline capitalises
/// every word, so "Terror Hall Of Shame" is no hall; a venue the body
/// names too is kept.
fn headline_venues(text: &str, kept: &mut Vec<Entity>) {
    let in_title: Vec<bool> = kept
        .iter()
        .map(|e| e.place_kind == Some(PlaceKind::Venue) && title_case_line(text, e.byte_start))
        .collect();
    let confirmed: HashSet<String> = kept
        .iter()
        .zip(&in_title)
        .filter(|(e, t)| e.place_kind == Some(PlaceKind::Venue) && !**t)
        .map(|(e, _)| e.id.clone())
        .collect();
    let mut i = 0;
    kept.retain(|e| {
        let drop = in_title[i] && !confirmed.contains(&e.id);
        i += 1;
        !drop
    });
}

static VENUE: LazyLock<Regex> = LazyLock::new(|| {
    let word = r"\p{Lu}[\p{L}\d'’&.-]*";
    re(&format!(
        r"(?x)
        \b(?P<n1>(?:{word}{SP}){{1,4}})(?P<k1>City{SP}Hall|Concert{SP}Hall|Hall|Arena|Stadium|Theatre|Theater|Mall|Cathedral|Mosque|Church|Synagogue|Hotel|Centre|Center|Airport|Station|Square|Market|Palace|Club|Temple)\b
        | \bthe{SP}(?P<n2>{word}(?:{SP}{word}){{0,4}}){SP}(?P<k2>concert{SP}venue|concert{SP}hall|music{SP}venue|music{SP}hall|venue|shopping{SP}(?:centre|center|mall)|nightclub|stadium|arena|theatre|theater|mosque|church|synagogue|hotel|airport|railway{SP}station|metro{SP}station)\b
        | \b(?P<d1>{word}(?:{SP}{word})?){SP}(?:district|neighbourhood|neighborhood|suburb|arrondissement)\b
        | \b(?:district|suburb){SP}of{SP}(?P<d2>{word}(?:{SP}{word})?)
        "
    ))
});

fn venues(text: &str) -> Vec<Entity> {
    let mut out = Vec::new();
    for c in VENUE.captures_iter(text) {
        let (m, kind, noun) = if let Some(n) = c.name("n1") {
            let k = c.name("k1").map_or("", |k| k.as_str());
            let Some(m) = c.get(0) else { continue };
            (n.start()..m.end(), PlaceKind::Venue, k)
        } else if let Some(n) = c.name("n2") {
            (
                n.range(),
                PlaceKind::Venue,
                c.name("k2").map_or("", |k| k.as_str()),
            )
        } else if let Some(d) = c.name("d1").or_else(|| c.name("d2")) {
            (d.range(), PlaceKind::District, "")
        } else {
            continue;
        };
        let raw = &text[m.clone()];
        let mut off = trim_leading(raw);
        // A capitalised function word inside the name ends a title-case
        // phrase before it: "City Answered The Manchester Arena" names the
        // Manchester Arena.
        if let Some(cut) = raw[off..]
            .char_indices()
            .filter(|(_, c)| c.is_whitespace())
            .map(|(i, c)| off + i + c.len_utf8())
            .rev()
            .find(|&i| {
                let w = raw[i..].split_whitespace().next().unwrap_or("");
                TITLE_STOP.contains(&w)
            })
        {
            let w = raw[cut..].split_whitespace().next().unwrap_or("");
            off = cut + w.len();
            off += raw[off..].len() - raw[off..].trim_start().len();
        }
        let start = m.start + off;
        let surface = &text[start..m.end];
        if surface.split_whitespace().count() < 2
            && kind == PlaceKind::Venue
            && c.name("n2").is_none()
        {
            continue; // "Hall" alone is no venue
        }
        if surface.is_empty() || LEADING_STOP.contains(&surface) {
            continue;
        }
        let nk = noun.to_lowercase();
        let kind = if nk.contains("airport") || nk.contains("station") {
            PlaceKind::Facility
        } else {
            kind
        };
        let prefix = if kind == PlaceKind::District {
            "district"
        } else {
            "venue"
        };
        let mut e = Entity::new(
            start,
            m.end,
            EntityKind::Place,
            surface,
            format!("{prefix}:{}", slug(surface)),
            surface.split_whitespace().collect::<Vec<_>>().join(" "),
        );
        e.place_kind = Some(kind);
        out.push(e);
    }
    out
}

/// Space within a line or one line break: never a blank line.
const SP: &str = r"(?:[\x20\t]+\n?[\x20\t]*|\n[\x20\t]*)";

static ORG: LazyLock<Regex> = LazyLock::new(|| {
    let word = r"\p{Lu}[\p{L}-]*";
    re(&format!(
        r"\b(?:(?P<ea>U\.S\.|US|UK|{word}(?:{SP}{word})?){SP}[Ee]mbassy(?:{SP}in{SP}(?P<ec>{word}))?|Embassy{SP}of{SP}(?:the{SP})?(?P<eo>{word}(?:{SP}{word})?)(?:{SP}in{SP}(?P<ec2>{word}))?|(?P<mi>Ministry{SP}of{SP}(?:the{SP})?{word}(?:{SP}(?:and{SP})?{word}){{0,2}})|(?P<ma>{word}(?:{SP}{word})?){SP}(?P<mk>Ministry|Interior{SP}Ministry|Foreign{SP}Ministry|Defence{SP}Ministry|Defense{SP}Ministry|Police))\b"
    ))
});

fn orgs(text: &str) -> Vec<Entity> {
    let mut out = Vec::new();
    for c in ORG.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        let off = trim_leading(m.as_str());
        let start = m.start() + off;
        let surface = &text[start..m.end()];
        let (id, role) = if c.name("ea").is_some() || c.name("eo").is_some() {
            let who = c
                .name("ea")
                .or_else(|| c.name("eo"))
                .map_or("", |x| x.as_str());
            let who = &who[trim_leading(who)..];
            if who.is_empty() || LEADING_STOP.contains(&who) {
                continue;
            }
            let city = c
                .name("ec")
                .or_else(|| c.name("ec2"))
                .map(|x| slug(x.as_str()));
            (
                format!(
                    "org:embassy:{}{}",
                    slug(who),
                    city.map(|c| format!("-{c}")).unwrap_or_default()
                ),
                "embassy",
            )
        } else if c.name("mi").is_some() {
            (format!("org:{}", slug(surface)), "ministry")
        } else if let Some(a) = c.name("ma") {
            let a = &a.as_str()[trim_leading(a.as_str())..];
            if a.is_empty() || LEADING_STOP.contains(&a) {
                continue;
            }
            let kind = c.name("mk").map_or("", |k| k.as_str()).to_lowercase();
            (
                format!("org:{}", slug(surface)),
                if kind == "police" {
                    "police"
                } else {
                    "ministry"
                },
            )
        } else {
            continue;
        };
        let mut e = Entity::new(
            start,
            m.end(),
            EntityKind::Org,
            surface,
            id,
            surface.to_string(),
        );
        e.role = Some(role.to_string());
        out.push(e);
    }
    out
}

const NOT_NAME: &[&str] = &[
    "prosecutor",
    "minister",
    "ministry",
    "police",
    "office",
    "agency",
    "service",
    "services",
    "committee",
    "council",
    "court",
    "department",
    "guard",
    "guards",
    "army",
    "forces",
    "force",
    "government",
    "state",
    "states",
    "embassy",
    "president",
    "secretary",
    "general",
    "director",
    "spokesman",
    "spokeswoman",
    "union",
    "nations",
    "kingdom",
    "republic",
    "city",
    "hall",
    "street",
    "airport",
    "station",
    "hotel",
    "university",
    "news",
    "times",
    "post",
    "agency",
    "brigade",
    "brigades",
    "front",
    "movement",
    "party",
    "group",
    "network",
    "province",
    "region",
    "oblast",
    "district",
    "county",
    "north",
    "south",
    "east",
    "west",
    "central",
    "islamic",
    "international",
];

const ROLES: &str = r"spokesman|spokeswoman|spokesperson|press\s+secretary|director|director\s+general|deputy\s+director|chief|head|minister|foreign\s+minister|interior\s+minister|defence\s+minister|defense\s+minister|prime\s+minister|president|commander|leader|ambassador|general|governor|mayor|secretary|official|prosecutor|chairman|chairwoman|emir|analyst|researcher|correspondent|police\s+chief|coordinator|senator|envoy|founder|directeur|ministre|porte-parole|président|Sprecher|Sprecherin|Minister|Präsident|Direktor|portavoz|ministro|presidente|director|директор|пресс-секретарь|президент|министр|глава|представитель";
const NAME: &str = r"\p{Lu}[\p{Ll}'’-]+(?:[\x20\t]+(?:(?:al|el|bin|ibn|de|van|von|abu|Abu|di|da|der|den|du|la|le)[\s-])?\p{Lu}[\p{Ll}'’-]+){1,2}";

static PERSON: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?x)
        (?P<pre>(?:\p{{Lu}}[\p{{L}}.'’-]*{SP}){{0,2}})(?P<role>(?i:{ROLES})){SP}(?P<n1>{NAME})
        | (?P<n2>{NAME}),{SP}(?P<role2>(?:the{SP}|a{SP}|an{SP})?[^,.;()\n]{{0,60}}?\b(?i:{ROLES})\b[^,.;()\n]{{0,40}}),
        | (?P<n3>{NAME}){SP}(?:said|says|told|added|stated|warned|wrote|announced|confirmed|denied|insisted|noted)\b
        | \b(?:Mr|Mrs|Ms|Dr|Gen|Col|Lt|Sgt|Maj|President|Minister)\.?{SP}(?P<n4>\p{{Lu}}[\p{{Ll}}'’-]+)
        "
    ))
});

fn people(text: &str) -> Vec<Entity> {
    let mut out = Vec::new();
    for c in PERSON.captures_iter(text) {
        let (name, role) = if let Some(n) = c.name("n1") {
            let pre = c.name("pre").map_or("", |p| p.as_str());
            let pre = &pre[trim_leading(pre)..];
            let role = format!("{pre}{}", c.name("role").map_or("", |r| r.as_str()));
            (n, Some(role))
        } else if let Some(n) = c.name("n2") {
            let role = c.name("role2").map(|r| {
                let r = r.as_str().trim();
                r.strip_prefix("the ")
                    .or_else(|| r.strip_prefix("a "))
                    .or_else(|| r.strip_prefix("an "))
                    .unwrap_or(r)
                    .to_string()
            });
            (n, role)
        } else if let Some(n) = c.name("n3").or_else(|| c.name("n4")) {
            (n, None)
        } else {
            continue;
        };
        let off = trim_leading(name.as_str());
        let start = name.start() + off;
        let surface = &text[start..name.end()];
        if surface.is_empty() || LEADING_STOP.contains(&surface) {
            continue;
        }
        // "the Federal Prosecutor said", "Greater Manchester Police said":
        // titles and bodies, not names.
        if surface
            .split_whitespace()
            .any(|w| NOT_NAME.contains(&w.to_lowercase().as_str()))
        {
            continue;
        }
        let single = !surface.contains(char::is_whitespace);
        if single && c.name("n4").is_none() {
            continue;
        }
        let mut e = Entity::new(
            start,
            name.end(),
            EntityKind::Person,
            surface,
            format!("person:{}", slug(surface)),
            surface.split_whitespace().collect::<Vec<_>>().join(" "),
        );
        e.role = role.map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "));
        out.push(e);
    }
    out
}

static UNKNOWN_GROUP: LazyLock<Regex> = LazyLock::new(|| {
    let x = r#""[^"\n]{2,60}"|“[^”\n]{2,60}”|(?:the\s+)?\p{Lu}[\p{L}'’-]*(?:\s+(?:al-|of\s+|the\s+|wal-|ul-)?\p{Lu}[\p{L}'’-]*){0,5}"#;
    let noun = r"offshoot|affiliate|branch|faction|splinter\s+group|splinter\s+faction|cell|group|network|wing|franchise|organi[sz]ation|movement";
    re(&format!(
        r"(?x)
        \b(?i:an?|the)\s+(?P<desc>[^.;:\n]{{0,60}}?\b(?:{noun}))\s+(?:known\s+as|called|calling\s+itself|that\s+calls\s+itself|named|dubbed)\s+(?P<x>{x})
        | \b(?i:le\s+groupe|la\s+cellule|die\s+Gruppe|el\s+grupo|группировка)\s+(?P<x3>\p{{Lu}}[\p{{L}}'’-]*(?:\s+(?:al-)?\p{{Lu}}[\p{{L}}'’-]*){{1,5}})
        | (?P<x2>\p{{Lu}}[\p{{L}}'’-]*(?:\s+(?:al-|of\s+|the\s+)?\p{{Lu}}[\p{{L}}'’-]*){{0,5}}),\s+(?P<desc2>(?:an?|the)\s+[^,.;\n]{{0,50}}?\b(?:{noun})\b[^,.;\n]{{0,50}})
        "
    ))
});

const GROUP_WORDS: &[&str] = &[
    "unknown",
    "little-known",
    "shadowy",
    "new group",
    "groupe",
    "gruppe",
    "grupo",
    "группировка",
    "militant",
    "extremist",
    "jihadist",
    "armed",
    "islamist",
    "terrorist",
    "insurgent",
    "islamic state",
    "al-qaeda",
    "al-qaida",
    "offshoot",
    "affiliate",
    "splinter",
    "faction",
    "neo-nazi",
    "separatist",
];

/// Groups introduced in `text`, a slice of the whole starting at byte
/// `base`; `found` holds the entities found so far (whole-text offsets).
fn unknown_groups(kb: &Kb, text: &str, base: usize, found: &[Entity]) -> Vec<Entity> {
    let mut out = Vec::new();
    for c in UNKNOWN_GROUP.captures_iter(text) {
        let (x, desc) = match (c.name("x"), c.name("desc"), c.name("x2"), c.name("desc2")) {
            (Some(x), Some(d), _, _) => (x, d),
            (_, _, Some(x), Some(d)) => (x, d),
            _ => match (c.name("x3"), c.get(0)) {
                (Some(x), Some(all)) => (x, all),
                _ => continue,
            },
        };
        let dl = desc.as_str().to_lowercase();
        let (ds, de) = (base + desc.start(), base + desc.end());
        let parent = found
            .iter()
            .find(|e| e.kind == EntityKind::Group && e.byte_start >= ds && e.byte_end <= de);
        if parent.is_none() && !GROUP_WORDS.iter().any(|w| dl.contains(w)) {
            continue;
        }
        let raw = x.as_str();
        let trimmed = raw.trim_matches(|c| c == '"' || c == '“' || c == '”');
        let lead = trimmed.strip_prefix("the ").map_or(0, |_| 4);
        let name = &trimmed[lead..];
        let start =
            base + x.start() + (raw.len() - raw.trim_start_matches(['"', '“']).len()) + lead;
        let end = start + name.len();
        if name.len() < 3 || LEADING_STOP.contains(&name) {
            continue;
        }
        // Known to the knowledge base, or already something else: not new.
        if found
            .iter()
            .any(|e| e.byte_start <= start && end <= e.byte_end && e.kind != EntityKind::Person)
            || kb
                .entries()
                .iter()
                .take(200)
                .any(|en| en.aliases.iter().any(|a| a == name))
        {
            continue;
        }
        let mut e = Entity::new(
            start,
            end,
            EntityKind::Group,
            name,
            format!("group:new:{}", slug(name)),
            name.to_string(),
        );
        e.description = Some(
            desc.as_str()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        );
        e.parent = parent.map(|p| p.id.clone());
        out.push(e);
    }
    out
}

/// Later mentions of a person by surname, and of a discovered group by its
/// name, take the full entity's id.
fn link_surnames(text: &str, kept: &mut Vec<Entity>) {
    let mut surnames: HashMap<String, (String, String, Option<String>)> = HashMap::new();
    for e in kept.iter().filter(|e| e.kind == EntityKind::Person) {
        let words: Vec<&str> = e.name.split_whitespace().collect();
        if words.len() >= 2 {
            if let Some(last) = words.last() {
                surnames.entry(last.to_string()).or_insert((
                    e.id.clone(),
                    e.name.clone(),
                    e.role.clone(),
                ));
            }
        }
    }
    // A single-word mention ("Mr Peskov") takes the full name's id.
    for e in kept
        .iter_mut()
        .filter(|e| e.kind == EntityKind::Person && !e.name.contains(' '))
    {
        if let Some((id, name, _)) = surnames.get(&e.name) {
            e.id = id.clone();
            e.name = name.clone();
        }
    }
    let mut extra = Vec::new();
    for (surname, (id, name, _)) in &surnames {
        later_mentions(
            text,
            kept,
            &mut extra,
            surname,
            EntityKind::Person,
            id,
            name,
        );
    }
    kept.extend(extra);
}

/// Adds to `extra` every whole-word occurrence of `surface` that no entity
/// covers yet, as an entity with the given id and name.
fn later_mentions(
    text: &str,
    kept: &[Entity],
    extra: &mut Vec<Entity>,
    surface: &str,
    kind: EntityKind,
    id: &str,
    name: &str,
) {
    for (i, _) in text.match_indices(surface) {
        let end = i + surface.len();
        if !whole_words(text, i, end)
            || kept
                .iter()
                .chain(extra.iter())
                .any(|k: &Entity| k.byte_start < end && i < k.byte_end)
        {
            continue;
        }
        extra.push(Entity::new(
            i,
            end,
            kind,
            surface,
            id.to_string(),
            name.to_string(),
        ));
    }
}

fn link_new_groups(text: &str, kept: &mut Vec<Entity>) {
    let new: Vec<(String, String)> = kept
        .iter()
        .filter(|e| e.id.starts_with("group:new:"))
        .map(|e| (e.text.clone(), e.id.clone()))
        .collect();
    let mut extra = Vec::new();
    for (name, id) in new {
        later_mentions(text, kept, &mut extra, &name, EntityKind::Group, &id, &name);
    }
    kept.extend(extra);
}

/// Fills parents: a group's movement, a place's region and country, a
/// venue's or district's city (the nearest city named after it in the same
/// sentence, else the city the text names most).
fn parents(kb: &Kb, kept: &mut [Entity]) {
    let cities: Vec<(usize, String, String, Option<String>)> = kept
        .iter()
        .filter(|e| e.place_kind == Some(PlaceKind::City))
        .map(|e| {
            (
                e.byte_start,
                e.id.clone(),
                e.name.clone(),
                e.country.clone(),
            )
        })
        .collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for c in &cities {
        *counts.entry(c.1.as_str()).or_default() += 1;
    }
    let main_city = counts
        .iter()
        .max_by_key(|(id, n)| (**n, std::cmp::Reverse(*id)))
        .and_then(|(id, _)| cities.iter().find(|c| c.1 == *id))
        .cloned();
    for e in kept.iter_mut() {
        if matches!(
            e.place_kind,
            Some(PlaceKind::Venue | PlaceKind::District | PlaceKind::Facility)
        ) && e.parent.is_none()
        {
            let near = cities
                .iter()
                .filter(|c| c.0 >= e.byte_end && c.0 - e.byte_end < 80)
                .min_by_key(|c| c.0)
                .or_else(|| {
                    cities
                        .iter()
                        .filter(|c| c.0 + 80 > e.byte_start && c.0 < e.byte_start)
                        .max_by_key(|c| c.0)
                })
                .or(main_city.as_ref());
            if let Some(c) = near {
                e.parent = Some(c.1.clone());
                e.parent_name = Some(c.2.clone());
                e.country = c.3.clone();
            }
        } else if let Some(p) = e.parent.as_deref().and_then(|p| kb.get(p)) {
            e.parent_name = Some(p.name.clone());
        }
    }
}

static SAY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?P<verb>claimed\s+responsibility|claimed|blamed|accused|denied|warned|said|says|told|stated|announced|added|confirmed|a\s+déclaré|a\s+dit|a\s+revendiqué|revendiqué|sagte|erklärte|bekannte\s+sich|dijo|declaró|reivindicó|заявил|заявила|сообщил|сообщила|взяло\s+на\s+себя|взял\s+на\s+себя)\b|\b(?P<acc>according\s+to|selon|laut|según|по\s+данным|по\s+словам)\b",
    )
});

fn sentences(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let end_here = match b[i] {
            b'.' | b'!' | b'?' => {
                let next = text[i + 1..].chars().next();
                let after = text[i + 1..].trim_start().chars().next();
                next.is_some_and(char::is_whitespace) && after.is_some_and(|c| c.is_uppercase() || c == '"' || c == '“' || c.is_numeric())
                    // "Mr. Peskov", "U.S. officials": no end.
                    && !text[start..i].rsplit(' ').next().is_some_and(|w| w.len() <= 3 && w.chars().next().is_some_and(char::is_uppercase))
            }
            b'\n' => text[i + 1..].starts_with('\n'),
            _ => false,
        };
        if end_here {
            out.push((start, i + 1));
            start = i + 1;
        }
        i += 1;
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

fn is_actor(e: &Entity) -> bool {
    matches!(
        e.kind,
        EntityKind::Person | EntityKind::Org | EntityKind::Group
    )
}

fn statements(text: &str, sentences: &[(usize, usize)], kept: &[Entity]) -> Vec<Entity> {
    let mut out = Vec::new();
    for &(s, e) in sentences {
        let sentence = &text[s..e];
        let mut verb = None;
        let mut according = None;
        for c in SAY.captures_iter(sentence) {
            if let Some(v) = c.name("verb") {
                verb.get_or_insert((s + v.start(), s + v.end(), v.as_str().to_lowercase()));
            }
            if let Some(a) = c.name("acc") {
                according.get_or_insert(s + a.end());
            }
        }
        if verb.is_none() && according.is_none() {
            continue;
        }
        let inside: Vec<&Entity> = kept
            .iter()
            .filter(|x| x.byte_start >= s && x.byte_end <= e)
            .collect();
        let according_to = according.and_then(|a| {
            inside
                .iter()
                .filter(|x| is_actor(x) && x.byte_start >= a)
                .min_by_key(|x| x.byte_start)
        });
        let (act, speaker, about) = match &verb {
            Some((vs, ve, v)) => {
                let before = inside
                    .iter()
                    .filter(|x| {
                        is_actor(x)
                            && x.byte_end <= *vs
                            && Some(x.id.as_str()) != according_to.map(|a| a.id.as_str())
                    })
                    .max_by_key(|x| x.byte_end);
                let after = inside
                    .iter()
                    .filter(|x| is_actor(x) && x.byte_start >= *ve)
                    .min_by_key(|x| x.byte_start);
                let act = if v.contains("claim")
                    || v.contains("revendiqu")
                    || v.contains("bekannte")
                    || v.contains("reivindic")
                    || v.contains("взял")
                {
                    "claimed"
                } else if v.contains("blamed") || v.contains("accused") {
                    "blamed"
                } else if v.contains("denied") {
                    "denied"
                } else if v.contains("warned") {
                    "warned"
                } else {
                    "said"
                };
                let speaker = before.or(if act == "said" { after } else { None });
                let about = match act {
                    "blamed" | "denied" => inside
                        .iter()
                        .filter(|x| {
                            (is_actor(x) || x.place_kind == Some(PlaceKind::Country))
                                && x.byte_start >= *ve
                        })
                        .min_by_key(|x| x.byte_start)
                        .map(|x| x.id.clone()),
                    _ => None,
                };
                (act, speaker.map(|x| x.id.clone()), about)
            }
            None => ("said", None, None),
        };
        let trimmed = sentence.trim();
        let ts = s + (sentence.len() - sentence.trim_start().len());
        let mut st = Entity::new(
            ts,
            ts + trimmed.len(),
            EntityKind::Statement,
            trimmed,
            format!(
                "statement:{act}:{}",
                speaker
                    .as_deref()
                    .or(according_to.map(|a| a.id.as_str()))
                    .unwrap_or("unknown")
            ),
            act.to_string(),
        );
        st.act = Some(act.to_string());
        st.speaker = speaker;
        st.according_to = according_to.map(|a| a.id.clone());
        st.about = about;
        out.push(st);
    }
    out
}
