"""`tearline sync` pulls from the OASIS reference TAXII server, medallion.

Usage: medallion_check.py TEARLINE WORKDIR

Starts medallion (memory backend) on a free loopback port with one
collection, seeds it with 250 STIX objects through medallion's own API (so
that medallion pages them, 100 at most per page), syncs a fresh Tearline
node from it, and checks that every object arrived intact: the same JSON,
member for member. A second sync must store nothing new.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time

import requests
from taxii2client.v21 import Collection

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER, PASSWORD = "admin", "Password0"


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    tl, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = {
        "/discovery": {
            "title": "medallion for Tearline interop",
            "description": "test",
            "default": f"{base}/api1/",
            "api_roots": [f"{base}/api1/"],
        },
        "api1": {
            "information": {
                "title": "api1",
                "description": "test",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 9765625,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION,
                    "title": "Shared indicators",
                    "description": "test",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    with open(os.path.join(work, "data.json"), "w") as f:
        json.dump(data, f)
    config = {
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": os.path.join(work, "data.json")},
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": 100},
    }
    with open(os.path.join(work, "config.json"), "w") as f:
        json.dump(config, f)
    medallion = os.path.join(os.path.dirname(sys.executable), "medallion")
    server = subprocess.Popen([medallion, "--host", "127.0.0.1", "--port", str(port), os.path.join(work, "config.json")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/taxii2/", auth=(USER, PASSWORD), timeout=1,
                             headers={"Accept": "application/taxii+json;version=2.1"})
                break
            except requests.exceptions.ConnectionError:
                time.sleep(0.1)
        col = Collection(f"{base}/api1/collections/{COLLECTION}/", user=USER, password=PASSWORD)
        seeded = []
        for i in range(250):
            seeded.append({
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{i:08x}-3333-4333-8333-333333333333",
                "created": "2026-03-21T10:00:00.000Z",
                "modified": "2026-03-21T10:00:00.000Z",
                "name": f"Concert venue reconnaissance pattern {i}",
                "pattern": f"[url:value = 'http://example.test/{i}']",
                "pattern_type": "stix",
                "valid_from": "2026-03-21T10:00:00Z",
                "labels": ["interop", "é ñ 中"],
            })
        for start in range(0, 250, 50):
            st = col.add_objects({"objects": seeded[start:start + 50]})
            check(st.success_count == 50, f"medallion took objects {start}..{start + 49}")

        node = os.path.join(work, "node")
        subprocess.run([tl, "init", node], check=True, capture_output=True)
        subprocess.run([tl, "--node", node, "remote", "add", "medallion", base, "--user", USER, "--password", PASSWORD,
                        "--collection", COLLECTION], check=True, capture_output=True)
        out = subprocess.run([tl, "--node", node, "sync", "medallion"], check=True, capture_output=True, text=True).stdout
        print(out.strip())
        check("250 objects" in out, "tearline sync pulled all 250 objects")
        check("in 3 pages" in out, "across medallion's pages of 100")

        db = sqlite3.connect(os.path.join(node, "tearline.db"))
        rows = db.execute("SELECT json FROM objects WHERE type = 'indicator'").fetchall()
        got = {o["id"]: o for o in (json.loads(r[0]) for r in rows)}
        check(len(got) == 250, f"250 objects stored ({len(got)})")
        check(all(got[o["id"]] == o for o in seeded), "every object arrived intact")

        out = subprocess.run([tl, "--node", node, "sync", "medallion"], check=True, capture_output=True, text=True).stdout
        n = db.execute("SELECT count(*) FROM objects WHERE type = 'indicator'").fetchone()[0]
        check(n == 250, f"a second sync stores nothing new ({out.strip()})")
        print("medallion: all checks passed")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
