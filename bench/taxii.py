"""TAXII benchmark: `tearline serve` against the OASIS reference server,
medallion (memory backend), on loopback, measured by the same client.

Usage: python bench/taxii.py TEARLINE [--dev TEARLINE_DEV] [--objects N] [--medallion-objects M]

TEARLINE runs the node (`init`, `partner add`, `serve`); the client is the
development binary, `tearline-dev` (by default the one beside TEARLINE).
For each server the client (`tearline-dev bench-taxii`, one thread, keep-alive)
POSTs the objects in envelopes of 100, then GETs them back in pages of 100
following `next`, and reports throughput and p50/p99 latency. The ratios
compare throughput per object. medallion's memory backend checks each new
object against every stored one and pages slowly, so the full run (100,000
objects each, the size the targets are judged on) takes over half an hour;
`--medallion-objects` measures it on fewer, and the output says so.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import requests

COLLECTION = "6a0f8c1e-2b7d-4c39-9e54-3f1a8d2b7c60"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_medallion(work):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = {
        "/discovery": {"title": "medallion", "description": "bench", "default": f"{base}/api1/", "api_roots": [f"{base}/api1/"]},
        "api1": {
            "information": {"title": "api1", "description": "bench", "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": 104857600},
            "status": [],
            "collections": [{"id": COLLECTION, "title": "bench", "description": "bench", "can_read": True, "can_write": True,
                             "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}],
        },
    }
    with open(os.path.join(work, "data.json"), "w") as f:
        json.dump(data, f)
    # medallion forgets a `next` token 30 s after the first page by default;
    # walking 1,000 pages takes longer than that.
    config = {"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                          "filename": os.path.join(work, "data.json"), "session_timeout": 86400},
              "users": {"bench": "bench-password"}, "taxii": {"max_page_size": 100}}
    with open(os.path.join(work, "config.json"), "w") as f:
        json.dump(config, f)
    exe = os.path.join(os.path.dirname(sys.executable), "medallion")
    p = subprocess.Popen([exe, "--host", "127.0.0.1", "--port", str(port), os.path.join(work, "config.json")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            requests.get(f"{base}/taxii2/", timeout=1)
            break
        except requests.exceptions.ConnectionError:
            time.sleep(0.1)
    return p, f"{base}/api1/collections/{COLLECTION}/", "bench", "bench-password"


def start_tearline(tl, work):
    node = os.path.join(work, "node")
    subprocess.run([tl, "init", node], check=True, capture_output=True)
    cfg = os.path.join(node, "tearline.toml")
    text = open(cfg).read()
    text = re.sub(r"rate_per_second = .*", "rate_per_second = 1000000.0", text)
    text = re.sub(r"burst = .*", "burst = 1000000.0", text)
    open(cfg, "w").write(text)
    out = subprocess.run([tl, "--node", node, "partner", "add", "bench", "--audience", "liaison"],
                         check=True, capture_output=True, text=True).stdout
    password = re.search(r"password:\s+(\S+)", out).group(1)
    inbox = re.search(r"writes to inbox\s+(\S+)", out).group(1)
    p = subprocess.Popen([tl, "--node", node, "serve", "--listen", "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    base = re.search(r"(http://[^/]+)/taxii2/", line).group(1)
    return p, f"{base}/api/collections/{inbox}/", "bench", password


def measure(dev, label, collection, user, password, n):
    r = subprocess.run([dev, "bench-taxii", "--label", label, "--collection", collection, f"--user={user}",
                        # A generated password may start with a dash: one argument.
                        f"--password={password}", "--objects", str(n)], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
        sys.exit(f"the {label} run failed")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tearline")
    ap.add_argument("--dev", help="the tearline-dev binary (default: beside TEARLINE)")
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--medallion-objects", type=int, default=100_000)
    a = ap.parse_args()
    dev = a.dev or os.path.join(os.path.dirname(os.path.abspath(a.tearline)), "tearline-dev")
    with tempfile.TemporaryDirectory() as work:
        os.makedirs(os.path.join(work, "m"))
        os.makedirs(os.path.join(work, "t"))
        m_proc, *m = start_medallion(os.path.join(work, "m"))
        t_proc, *t = start_tearline(a.tearline, os.path.join(work, "t"))
        try:
            ours = measure(dev, "tearline", *t, a.objects)
            theirs = measure(dev, "medallion", *m, min(a.objects, a.medallion_objects))
        finally:
            for p in (m_proc, t_proc):
                p.terminate()
                p.wait()
    print(f"TAXII bench: POST envelopes of 100, GET pages of 100 following next; one client, loopback, same machine")
    for r in (ours, theirs):
        print(f"{r['label']:<10} {r['objects']:>7} objects | POST {r['post_objects_per_s']:>9.0f} obj/s  p50 {r['post_p50_ms']:7.2f} ms  p99 {r['post_p99_ms']:7.2f} ms"
              f" | GET {r['get_objects_per_s']:>9.0f} obj/s  p50 {r['get_p50_ms']:7.2f} ms  p99 {r['get_p99_ms']:7.2f} ms  ({r['read_back']} read back)")
    if ours["objects"] != theirs["objects"]:
        print(f"(medallion measured on {theirs['objects']} objects: its memory backend compares each new object with every stored one)")
    post_ratio = ours["post_objects_per_s"] / theirs["post_objects_per_s"]
    get_ratio = ours["get_objects_per_s"] / theirs["get_objects_per_s"]
    full = ours["objects"] == theirs["objects"] >= 100_000
    verdict = ("met" if min(post_ratio, get_ratio) >= 50 else "NOT met") if full else "judged on 100,000 objects each"
    print(f"ratio      POST {post_ratio:.1f}x   GET {get_ratio:.1f}x   (target >= 50x on both: {verdict})")
    verdict = ("met" if ours["get_p99_ms"] <= 20 else "NOT met") if ours["objects"] >= 100_000 else "judged on 100,000 objects"
    print(f"tearline   GET p99 for a page of 100: {ours['get_p99_ms']:.2f} ms (target <= 20 ms: {verdict})")
    if ours["read_back"] != ours["objects"] or theirs["read_back"] != theirs["objects"]:
        print("FAILED: a server did not return every object it accepted")
        sys.exit(1)


if __name__ == "__main__":
    main()
