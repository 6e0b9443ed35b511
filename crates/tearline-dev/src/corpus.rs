//! A synthetic news corpus for benchmarks: short articles about attacks,
//! warnings and arrests, built from the knowledge base's groups, cities and
//! organisations with a fixed seed, so every run reads the same text.

use tearline_extract::{EntityKind, Kb, PlaceKind};

/// A small, fast, seeded generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// Names to draw from.
pub struct Vocabulary {
    pub groups: Vec<String>,
    pub cities: Vec<String>,
    pub orgs: Vec<String>,
}

impl Vocabulary {
    pub fn from_kb(kb: &Kb) -> Vocabulary {
        let mut groups = Vec::new();
        let mut cities = Vec::new();
        let mut orgs = Vec::new();
        for e in kb.entries() {
            let name = e
                .aliases
                .first()
                .map(|a| a.trim_start_matches('~').to_string());
            let Some(name) = name.filter(|n| !n.contains('(')) else {
                continue;
            };
            match (e.kind, e.place_kind) {
                (EntityKind::Group, _) => {
                    groups.extend(e.aliases.iter().filter(|a| !a.contains('(')).cloned())
                }
                (EntityKind::Org, _) => orgs.push(name),
                (EntityKind::Place, Some(PlaceKind::City)) if e.population > 500_000 => {
                    cities.push(name)
                }
                _ => {}
            }
        }
        Vocabulary {
            groups,
            cities,
            orgs,
        }
    }
}

const FIRST: &[&str] = &[
    "Ahmad", "Elena", "Pierre", "Maria", "Yusuf", "Anna", "Omar", "Dmitri", "Sofia", "Karim",
    "Lena", "Tomasz",
];
const LAST: &[&str] = &[
    "Haddad",
    "Petrova",
    "Lambert",
    "Kowalski",
    "Rahimi",
    "Schneider",
    "Okafor",
    "Novak",
    "Farouk",
    "Lindqvist",
    "Moreau",
    "Ivanov",
];
const ROLES: &[&str] = &[
    "police spokesman",
    "interior minister",
    "security official",
    "regional governor",
    "intelligence chief",
];
const TARGETS: &[&str] = &[
    "a concert hall",
    "a crowded market",
    "a mosque",
    "a hotel",
    "the central railway station",
    "a stadium",
    "a shopping centre",
    "a church",
];
const DAYS: &[&str] = &[
    "on Monday",
    "on Tuesday evening",
    "last Wednesday",
    "on Thursday",
    "in the early hours of Friday",
    "on Saturday night",
    "on 12 March",
    "on June 3",
    "yesterday",
];
/// Narrative sentences: most of a news article names nothing.
const FILLER: &[&str] = &[
    "Witnesses described scenes of panic as people fled into nearby streets.",
    "Roads around the area were closed for several hours while investigators worked.",
    "The government announced a day of mourning and increased security at public events.",
    "Analysts said the attack fitted a pattern seen in the region over the past year.",
    "Hospitals in the city appealed for blood donors.",
    "Residents said they had heard several loud bangs shortly before the lights went out.",
    "Video footage shared online appeared to show smoke rising above the rooftops.",
    "Officials urged people to stay away from the area and to follow instructions from the emergency services.",
    "Schools and offices nearby remained closed while the security operation continued.",
    "Shopkeepers began clearing broken glass from the pavement as the cordon was lifted.",
    "The incident renewed questions about how much warning the authorities had received.",
    "Opposition politicians called for an inquiry into the response of the security services.",
    "Relatives gathered outside the hospital waiting for news of those still missing.",
    "Security experts said the choice of target suggested careful planning over several weeks.",
    "Several foreign governments condemned the violence and offered their condolences.",
    "Public transport services were suspended for the rest of the evening.",
    "Local media reported that checkpoints had been set up on the main roads out of the city.",
    "Investigators were examining mobile phones recovered at the scene.",
    "It was not immediately clear how the attackers had reached the building.",
    "A spokesperson for the emergency services said crews had worked through the night.",
    "The authorities have raised the national threat level by one step.",
    "Some witnesses said the gunfire lasted for several minutes before the police arrived.",
    "Volunteers set up tables offering water and blankets to people waiting for news.",
    "The country has seen a series of smaller incidents in recent months, none claimed by any group.",
];

/// One article of the corpus.
pub fn article(rng: &mut Rng, v: &Vocabulary) -> String {
    let group = rng.pick(&v.groups).clone();
    let city = rng.pick(&v.cities).clone();
    let org = rng.pick(&v.orgs).clone();
    let person = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
    let killed = 3 + rng.below(150);
    let injured = killed + rng.below(200);
    let mut s = String::with_capacity(1200);
    match rng.below(3) {
        0 => {
            s.push_str(&format!(
                "Gunmen attacked {} in {city} {}, killing at least {killed} people and wounding more than {injured}, officials said. ",
                rng.pick(TARGETS),
                rng.pick(DAYS)
            ));
            s.push_str(&format!(
                "{group} claimed responsibility for the attack, according to {org}. "
            ));
        }
        1 => {
            s.push_str(&format!(
                "Authorities in {city} warned that {group} plans to target {} over the next 48 hours. ",
                rng.pick(TARGETS)
            ));
            s.push_str(&format!(
                "The warning was shared with {org} {}. ",
                rng.pick(DAYS)
            ));
        }
        _ => {
            s.push_str(&format!(
                "Police in {city} arrested four men {} on suspicion of planning an attack on {} for {group}. ",
                rng.pick(DAYS),
                rng.pick(TARGETS)
            ));
        }
    }
    s.push_str(&format!(
        "{} {person} said the investigation was continuing. ",
        capitalise(rng.pick::<&str>(ROLES))
    ));
    // A typical article runs to a few kilobytes, most of it narrative.
    for _ in 0..10 + rng.below(12) {
        s.push_str(rng.pick::<&str>(FILLER));
        s.push(' ');
    }
    s.push_str(&format!(
        "{} said the death toll had risen to {}.",
        person.split(' ').next_back().unwrap_or(""),
        killed + 2
    ));
    s
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
