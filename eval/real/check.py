#!/usr/bin/env python3
"""Check that every document in this set parses and that its gold is well formed.

Usage: python3 check.py [DIR]   (DIR defaults to the folder holding this script)

Checks, per document: header lines (optional published:, then lang:, case:), the
`---` separator, a text of 80-600 words; per gold line: 3 or 4 tab-separated columns,
a known type, the surface occurring in the text (ignoring case), each surface listed
once per type, canonical formats for date/window/casualty/blame/characterisation, and
the optional 4th column `event=LABEL`. Across the set: every case lies in one part.
Prints counts per part (documents, cases, languages, undated share).
"""
import collections, datetime, glob, os, re, sys

TYPES = {'group', 'person', 'org', 'place', 'target', 'date', 'window', 'casualty',
         'blame', 'characterisation'}
CASUALTY = re.compile(r'^(killed|injured)(=|>=|<=|~)\d+$')
DATE = re.compile(r'^\d{4}-\d{2}-\d{2}$')


def valid_date(s):
    if not DATE.match(s):
        return False
    try:
        datetime.date.fromisoformat(s)
        return True
    except ValueError:
        return False


def parse_doc(path, errors):
    raw = open(path, encoding='utf-8').read()
    if '\n---\n' not in raw:
        errors.append(f'{path}: no --- separator line')
        return None
    head, text = raw.split('\n---\n', 1)
    meta = {}
    for line in head.split('\n'):
        m = re.match(r'^(published|lang|case): (\S.*)$', line)
        if not m:
            errors.append(f'{path}: bad header line {line!r}')
            continue
        if m.group(1) in meta:
            errors.append(f'{path}: duplicate header {m.group(1)}')
        meta[m.group(1)] = m.group(2).strip()
    keys = [l.split(':')[0] for l in head.split('\n')]
    if keys not in (['published', 'lang', 'case'], ['lang', 'case']):
        errors.append(f'{path}: header must be [published:] lang: case: in that order, got {keys}')
    if 'published' in meta and not valid_date(meta['published']):
        errors.append(f'{path}: bad published date {meta["published"]}')
    if 'lang' in meta and not re.match(r'^[a-z]{2}$', meta['lang']):
        errors.append(f'{path}: lang must be ISO 639-1')
    words = len(text.split())
    if not 80 <= words <= 600:
        errors.append(f'{path}: {words} words (want 80-600)')
    meta['words'] = words
    return meta, text


def check_gold(path, text, errors, warnings):
    seen = set()
    n = 0
    events = []
    low = text.lower()
    for i, line in enumerate(open(path, encoding='utf-8').read().split('\n'), 1):
        if not line.strip() or line.startswith('#'):
            continue
        cols = line.split('\t')
        where = f'{path}:{i}'
        if len(cols) not in (3, 4):
            errors.append(f'{where}: {len(cols)} columns')
            continue
        typ, surface, canon = cols[:3]
        n += 1
        if typ not in TYPES:
            errors.append(f'{where}: unknown type {typ}')
        if not surface or not canon or surface != surface.strip() or canon != canon.strip():
            errors.append(f'{where}: empty or padded column')
        if surface.lower() not in low:
            errors.append(f'{where}: surface not in text: {surface!r}')
        key = (typ, surface.lower())
        if key in seen:
            errors.append(f'{where}: duplicate surface {surface!r}')
        seen.add(key)
        if typ == 'date' and not valid_date(canon):
            errors.append(f'{where}: bad date {canon}')
        if typ == 'window':
            parts = canon.split('..')
            if len(parts) != 2 or not all(valid_date(p) for p in parts) or parts[0] > parts[1]:
                errors.append(f'{where}: bad window {canon}')
        if typ == 'casualty' and not CASUALTY.match(canon):
            errors.append(f'{where}: bad casualty {canon}')
        if typ == 'blame' and not re.match(r'^\S.* -> \S.*$', canon):
            errors.append(f'{where}: blame must be SPEAKER -> BLAMED')
        if typ == 'characterisation' and not re.match(r'^[^:]+: \S.*$', canon):
            errors.append(f'{where}: characterisation must be SPEAKER: WORDS')
        if len(cols) == 4:
            if typ != 'casualty' or not re.match(r'^event=[a-z0-9-]+$', cols[3]):
                errors.append(f'{where}: 4th column only as event=LABEL on casualty lines')
            else:
                events.append(cols[3][6:])
    if n == 0:
        warnings.append(f'{path}: no gold entities')
    return n, events


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    errors, warnings = [], []
    case_parts = collections.defaultdict(set)
    stats = {}
    all_events = set()
    for part in ('dev', 'heldout'):
        docs = sorted(glob.glob(os.path.join(root, part, '*.txt')))
        golds = sorted(glob.glob(os.path.join(root, part, '*.gold')))
        if {d[:-4] for d in docs} != {g[:-5] for g in golds}:
            errors.append(f'{part}: .txt and .gold files do not pair up')
        st = {'docs': 0, 'undated': 0, 'langs': collections.Counter(),
              'cases': collections.Counter(), 'gold': collections.Counter(), 'words': 0}
        for d in docs:
            r = parse_doc(d, errors)
            if r is None:
                continue
            meta, text = r
            st['docs'] += 1
            st['words'] += meta['words']
            st['undated'] += 'published' not in meta
            st['langs'][meta.get('lang', '?')] += 1
            st['cases'][meta.get('case', '?')] += 1
            case_parts[meta.get('case', '?')].add(part)
            g = d[:-4] + '.gold'
            if os.path.exists(g):
                n, ev = check_gold(g, text, errors, warnings)
                all_events.update(ev)
                for line in open(g, encoding='utf-8'):
                    if line.strip() and not line.startswith('#'):
                        st['gold'][line.split('\t')[0]] += 1
        stats[part] = st
    for case, parts in case_parts.items():
        if len(parts) > 1:
            errors.append(f'case {case} lies in more than one part: {sorted(parts)}')
    for part, st in stats.items():
        print(f'== {part}: {st["docs"]} documents, {len(st["cases"])} cases, '
              f'{st["undated"]} undated ({st["undated"] / max(st["docs"], 1):.0%}), '
              f'{sum(st["gold"].values())} gold lines, {st["words"]} words')
        print('   languages:', dict(sorted(st['langs'].items())))
        print('   cases:', dict(sorted(st['cases'].items())))
        print('   gold types:', dict(sorted(st['gold'].items())))
    known = set(case_parts)
    print('event= labels (cases in the set marked *):',
          ', '.join(sorted(e + ('*' if e in known else '') for e in all_events)))
    for w in warnings:
        print('WARNING', w)
    for e in errors:
        print('ERROR', e)
    print('OK' if not errors else f'{len(errors)} errors')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
