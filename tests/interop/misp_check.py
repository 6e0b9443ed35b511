"""Tearline and MISP, checked with MISP's own Python packages from PyPI.

Usage: misp_check.py TEARLINE EXAMPLES_DIR WORKDIR

- MISP out: every example report, released to every audience with
  `--format misp`, loads in PyMISP as a MISPEvent with exactly one TLP tag,
  equal to the release's marking, its info the title and every released
  portion's text in its event report; every attribute's category and type
  are a combination MISP accepts (PyMISP's describeTypes), and every object
  is a template PyMISP ships, with relations the template has.
- STIX to MISP: every STIX bundle Tearline emits (`--format stix`) converts
  with misp-stix (ExternalSTIX2toMISPParser: the bundles are not MISP's own)
  into a MISP event with exactly one TLP tag, the release's marking, and no
  other TLP level anywhere in it, the released text in an event report, and
  the UUID of the same release's `--format misp` event (importing both
  updates one event).
- MISP in: events built with PyMISP — at several TLP levels, one with a
  threat-actor galaxy cluster, one with a Canada-listed terrorist entity,
  attributes, an event report, and one with no TLP tag — are written as
  event files (clusters as Galaxy entries, tags or both) and as a MISP feed
  (PyMISP's manifest and feed output, clusters as tags) and read with
  `tearline ingest`; `tearline cases --json` and `tearline case N
  --json` show each document with its marking (the untagged one TLP:RED)
  and the groups its galaxy clusters name.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from misp_stix_converter import ExternalSTIX2toMISPParser
from pymisp import MISPEvent, MISPGalaxy, MISPObject, MISPOrganisation
from pymisp.abstract import describe_types
from stix2.parsing import parse as stix2_parse

AUDIENCES = ["internal", "liaison", "public", "liaison-north", "liaison-south"]
NOW = "2026-03-20T09:00:00Z"


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)


class Tearline:
    def __init__(self, binary, node):
        self.binary, self.node = binary, node

    def run(self, *args, ok=True):
        env = dict(os.environ, TEARLINE_NOW=NOW, TEARLINE_ACTOR="misp-check")
        env.pop("TEARLINE_HOME", None)
        p = subprocess.run([self.binary, "--node", str(self.node), *map(str, args)], capture_output=True, text=True, env=env)
        if ok:
            check(p.returncode == 0, f"tearline {' '.join(map(str, args))}: exit {p.returncode}\n{p.stdout}{p.stderr}")
        return p

    def json(self, *args):
        return json.loads(self.run(*args).stdout)


def tlp_tags(names):
    return [n for n in names if n.lower().startswith("tlp:")]


def want_tag(marking):
    # "TLP:AMBER+STRICT" -> "tlp:amber+strict", as MISP's taxonomy spells it.
    return "tlp:" + marking.split(":", 1)[1].lower()


def check_misp_out(tl, examples, out):
    categories = describe_types["category_type_mappings"]
    n = 0
    for ex in examples:
        for aud in AUDIENCES:
            release = tl.json("release", ex, "--to", aud, "--format", "json")
            path = out / f"{ex.stem}.{aud}.misp.json"
            tl.run("release", ex, "--to", aud, "--format", "misp", "-o", path)
            ev = MISPEvent()
            ev.load_file(str(path))
            what = f"{ex.name} to {aud} (--format misp)"
            tags = [t.name for t in ev.tags]
            check(tlp_tags(tags) == [want_tag(release["marking"])], f"{what}: one TLP tag, {want_tag(release['marking'])}: {tags}")
            check(ev.info == release["title"], f"{what}: info is the title")
            reports = " ".join(r.content for r in ev.event_reports)
            for p in release["portions"]:
                check(p["text"] in reports, f"{what}: the event report holds portion {p['text'][:40]!r}")
            all_attrs = list(ev.attributes) + [a for o in ev.objects for a in o.attributes]
            for a in all_attrs:
                check(a.type in categories.get(a.category, []), f"{what}: {a.category}/{a.type} is a valid MISP combination")
                check(not tlp_tags([t.name for t in a.tags]), f"{what}: attributes carry no TLP tag of their own")
            for o in ev.objects:
                template = MISPObject(o.name)  # loads the definition PyMISP ships
                check(template.template_uuid == o.template_uuid, f"{what}: object {o.name} is MISP's template")
                for a in o.attributes:
                    check(a.object_relation in template._definition["attributes"], f"{what}: {o.name} has relation {a.object_relation}")
            if release.get("valid_until"):
                check(ev.objects and ev.objects[0].last_seen is not None, f"{what}: the window is in a cap-info object")
            expected_distribution = {"public": 3, "internal": 0}.get(aud, 4)
            check(int(ev.distribution) == expected_distribution, f"{what}: distribution {ev.distribution}")
            # PyMISP writes it back out (as a MISP instance would take it).
            json.loads(ev.to_json())
            n += 1
    print(f"misp: {n} MISP events load in PyMISP with exactly one TLP tag, the release's marking, and the text")


def check_stix_to_misp(tl, examples, out):
    n = 0
    for ex in examples:
        for aud in AUDIENCES:
            release = tl.json("release", ex, "--to", aud, "--format", "json")
            path = out / f"{ex.stem}.{aud}.stix.json"
            tl.run("release", ex, "--to", aud, "--format", "stix", "-o", path)
            bundle = stix2_parse(path.read_text(), allow_custom=True, interoperability=True)
            parser = ExternalSTIX2toMISPParser()
            parser.load_stix_bundle(bundle)
            parser.parse_stix_bundle()
            ev = parser.misp_event
            what = f"{ex.name} to {aud} (--format stix through misp-stix)"
            want = want_tag(release["marking"])
            tags = [t.name for t in ev.tags]
            check(tlp_tags(tags) == [want], f"{what}: one TLP tag, {want}: {tags}")
            elsewhere = {t.name for a in ev.attributes for t in a.tags} | {
                t.name for o in ev.objects for a in o.attributes for t in a.tags}
            check(set(tlp_tags(elsewhere)) <= {want}, f"{what}: no other TLP level anywhere: {sorted(elsewhere)}")
            reports = " ".join(r.content for r in ev.event_reports)
            for p in release["portions"]:
                check(p["text"] in reports, f"{what}: the event report holds portion {p['text'][:40]!r}")
            check(ev.info == release["title"], f"{what}: info is the title ({ev.info!r})")
            native = json.loads((out / f"{ex.stem}.{aud}.misp.json").read_text())["Event"]["uuid"]
            check(ev.uuid == native, f"{what}: the same event UUID as --format misp ({ev.uuid} vs {native})")
            n += 1
    print(f"misp-stix: {n} STIX bundles convert to MISP events with exactly one TLP tag, the release's marking, the text, and the UUID of the release's --format misp event")


def built_events():
    """Events as an analyst would build them with PyMISP."""
    events = []
    org = MISPOrganisation()
    org.from_dict(name="A partner CERT", uuid="7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")

    def event(info, date, tlp=None):
        ev = MISPEvent()
        ev.Orgc = org
        ev.info = info
        ev.uuid = str(uuid.uuid4())
        ev.set_date(date)
        ev.distribution = 1
        if tlp:
            ev.add_tag(tlp)
        events.append(ev)
        return ev

    ev = event("Threat to concerts in Moscow", "2024-03-07", "tlp:green")
    ev.add_event_report("Embassy warning", "Extremists plan to attack concerts in Moscow within the next 48 hours.")
    ev.add_attribute("target-location", "Moscow", comment="the city the warning names")
    g = MISPGalaxy()
    g.from_dict(uuid="14804140-18e2-478e-a608-f9929006cc4f", name="Canada Listed Terrorist Entities",
                type="canada-listed-terrorist-entities", namespace="ca", version="1")
    g.add_galaxy_cluster(uuid="61b02d56-da70-59e6-8cd5-5c26b36ce2bf", type="canada-listed-terrorist-entities",
                         value="Islamic State Khorasan Province",
                         tag_name='misp-galaxy:canada-listed-terrorist-entities="Islamic State Khorasan Province"')
    ev.add_galaxy(g)

    ev = event("Phishing wave against embassies", "2024-03-10", "tlp:amber")
    ev.add_attribute("domain", "mail-embassy.example", comment="sender domain of the phishing mails")
    ev.add_attribute("text", "The operators reuse lures about visa appointments.")
    g = MISPGalaxy()
    g.from_dict(uuid="698774c7-8022-42c4-917f-8d6e4f06ada3", name="Threat Actor", type="threat-actor",
                namespace="misp", version="3")
    g.add_galaxy_cluster(uuid="5b4ee3ea-eee3-4c8e-8323-85ae32658754", type="threat-actor", value="APT28",
                         tag_name='misp-galaxy:threat-actor="APT28"', meta={"synonyms": ["Fancy Bear", "Sofacy"]})
    ev.add_galaxy(g)
    # As MISP itself writes an attached cluster: the Galaxy entry and its tag.
    ev.add_tag('misp-galaxy:threat-actor="APT28"')

    ev = event("Strict handling note on a courier", "2024-03-11", "tlp:amber+strict")
    ev.add_event_report("Note", "A courier for the cell was seen at the border crossing on Monday.")

    ev = event("Red sourcing note", "2024-03-12", "tlp:red")
    ev.add_attribute("comment", "Reporting from a sensitive source; not for further dissemination.")

    ev = event("Public advisory on crowded places", "2024-03-13", "tlp:clear")
    ev.add_event_report("Advisory", "Avoid crowded places and follow the instructions of local authorities.")

    ev = event("Untagged note on Sandworm", "2024-03-14")
    ev.add_tag('misp-galaxy:threat-actor="Sandworm"')
    ev.add_attribute("text", "A note that came with no marking at all.")
    return events


EXPECTED = {
    "Threat to concerts in Moscow": ("TLP:GREEN", "group:is-k"),
    "Phishing wave against embassies": ("TLP:AMBER", "group:new:apt28"),
    "Strict handling note on a courier": ("TLP:AMBER+STRICT", None),
    "Red sourcing note": ("TLP:RED", None),
    "Public advisory on crowded places": ("TLP:CLEAR", None),
    "Untagged note on Sandworm": ("TLP:RED", "group:new:sandworm"),
}


def documents(tl):
    docs = {}
    for c in tl.json("cases", "--json"):
        case = tl.json("case", c["id"], "--json")
        ids = {e["id"] for e in case["entities"]}
        for d in case["documents"]:
            docs[d["title"]] = (d, ids)
    return docs


def check_misp_in(tearline, work):
    events = built_events()
    # As event files, one per event ({"Event": ...}, PyMISP's JSON).
    files = work / "events"
    files.mkdir()
    for ev in events:
        (files / f"{ev.uuid}.json").write_text(ev.to_json())
    tl = Tearline(tearline, work / "files-node")
    tl.run("init", work / "files-node")
    p = tl.run("ingest", files)
    check(f"{len(events)} document(s) stored" in p.stdout, f"every event stored: {p.stdout}{p.stderr}")
    check_documents(tl, "event files")

    # As a MISP feed: PyMISP's manifest and feed output.
    feed = work / "feed"
    feed.mkdir()
    manifest = {}
    for ev in events:
        # A feed names clusters by their tags (PyMISP's feed output leaves
        # Galaxy entries out), as MISP's own feed export does.
        names = {t.name for t in ev.tags}
        for g in ev.galaxies:
            for c in g.clusters:
                if c.tag_name not in names:
                    ev.add_tag(c.tag_name)
        (feed / f"{ev.uuid}.json").write_text(json.dumps(ev.to_feed(with_meta=False)))
        manifest.update(ev.manifest)
    (feed / "manifest.json").write_text(json.dumps(manifest))
    tl = Tearline(tearline, work / "feed-node")
    tl.run("init", work / "feed-node")
    p = tl.run("ingest", feed)
    check(f"{len(events)} document(s) stored" in p.stdout, f"every feed event stored: {p.stdout}{p.stderr}")
    check_documents(tl, "a MISP feed")
    p = tl.run("ingest", feed)
    check("0 document(s) stored" in p.stdout and f"{len(events)} unchanged" in p.stdout, f"a feed read again changes nothing: {p.stdout}")


def check_documents(tl, how):
    docs = documents(tl)
    for title, (marking, group) in EXPECTED.items():
        check(title in docs, f"{how}: `{title}` was stored: {sorted(docs)}")
        d, ids = docs[title]
        check(d["marking"] == marking, f"{how}: `{title}` is {marking}, not {d['marking']}")
        check(d["id"].startswith("misp:"), f"{how}: `{title}` keeps its event UUID as its id")
        if group:
            check(group in ids, f"{how}: `{title}` names {group}: {sorted(ids)}")
    print(f"misp in ({how}): {len(EXPECTED)} PyMISP events read with their markings (the untagged one TLP:RED) and their galaxy clusters' groups")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    tearline, examples_dir, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    examples = sorted(examples_dir.glob("*.md"))
    check(len(examples) >= 3, "the examples are there")
    tl = Tearline(tearline, work / "node")
    tl.run("init", work / "node", "--name", "MISP check node")
    tl.run("protect", "import", examples_dir / "registry.tsv")
    for aud in ("liaison-north", "liaison-south"):
        tl.run("audience", "add", aud, "--max", "AMBER")
    out = work / "out"
    out.mkdir(exist_ok=True)
    check_misp_out(tl, examples, out)
    check_stix_to_misp(tl, examples, out)
    check_misp_in(tearline, work)
    tl.run("audit", "verify")
    print("misp: all checks passed")


if __name__ == "__main__":
    main()
