//! Number words, in every language the rules read.

/// Number words and their values, read by the figure rules ("killing
/// two") and the date rules ("over the next two days").
pub(crate) const CARDINALS: &[(&str, u64)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("fourteen", 14),
    ("fifteen", 15),
    ("twenty", 20),
    ("twenty-four", 24),
    ("thirty", 30),
    ("forty", 40),
    ("forty-eight", 48),
    ("fifty", 50),
    ("seventy-two", 72),
    ("один", 1),
    ("два", 2),
    ("две", 2),
    ("три", 3),
    ("четыре", 4),
    ("пять", 5),
];
