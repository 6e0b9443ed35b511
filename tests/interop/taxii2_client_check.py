"""Drives `tearline serve` with the OASIS taxii2-client, as a partner would.

Usage: taxii2_client_check.py URL USER PASSWORD TOKEN

Checks discovery, the API root, collections, posting 1,200 objects to the
inbox in envelopes, reading them back page by page with `as_pages` (objects
and manifest), reading the release collection, status, object versions, and
that wrong credentials are refused. Exits non-zero on the first failure.
"""

import sys

import requests
from stix2validator import ValidationOptions, validate_instance
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import ApiRoot, Server, as_pages


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def note(i):
    return {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{i:08x}-1111-4111-8111-111111111111",
        "created": "2026-03-21T10:00:00.000Z",
        "modified": "2026-03-21T10:00:00.000Z",
        "content": f"measure {i} taken",
        "object_refs": ["report--11111111-1111-4111-8111-111111111111"],
    }


def main():
    url, user, password, token = sys.argv[1:5]
    server = Server(f"{url}/taxii2/", user=user, password=password)
    check(server.title, "discovery has a title")
    roots = server.api_roots
    check(len(roots) == 1, "one API root")
    root = roots[0]
    check("application/taxii+json;version=2.1" in root.versions, "API root speaks TAXII 2.1")
    cols = root.collections
    check(len(cols) == 2, "a partner sees two collections")
    inbox = next(c for c in cols if c.can_write)
    read = next(c for c in cols if not c.can_write)

    total = 1200
    for start in range(0, total, 300):
        status = inbox.add_objects({"objects": [note(i) for i in range(start, start + 300)]})
        check(status.status == "complete" and status.success_count == 300, f"posted objects {start}..{start + 299}")
    again = root.get_status(status.id)
    check(again.success_count == 300, "status resource can be fetched again")

    pages = list(as_pages(inbox.get_objects, per_request=100))
    got = [o["id"] for env in pages for o in env.get("objects", [])]
    check(len(pages) == 12, f"as_pages walked 12 pages of 100 (got {len(pages)})")
    check(len(got) == total and len(set(got)) == total, f"every object came back once ({len(got)})")

    manifest = [m for env in as_pages(inbox.get_manifest, per_request=250) for m in env.get("objects", [])]
    check(len(manifest) == total, f"manifest pages cover every object ({len(manifest)})")

    releases = read.get_objects()
    types = {o["type"] for o in releases.get("objects", [])}
    check("report" in types, f"the release collection holds the report ({sorted(types)})")
    report = next(o for o in releases["objects"] if o["type"] == "report")
    one = read.get_object(report["id"])
    check(one["objects"][0]["id"] == report["id"], "a single object by id")
    versions = read.object_versions(report["id"])
    check(len(versions["versions"]) >= 1, "object versions")

    served = releases["objects"] + [o for env in pages for o in env.get("objects", [])]
    bundle = {"type": "bundle", "id": "bundle--5f0e1a6b-8d6c-4e0f-9a51-0c3b7f1d2e44", "objects": served}
    result = validate_instance(bundle, ValidationOptions())
    if not result.is_valid:
        for e in result.errors:
            print(e)
    check(result.is_valid, f"stix2-validator accepts all {len(served)} objects the server returned")

    # Bearer token instead of Basic.
    r = requests.get(
        f"{url}/api/collections/",
        headers={"Accept": "application/taxii+json;version=2.1", "Authorization": f"Bearer {token}"},
        timeout=10,
    )
    check(r.status_code == 200, "bearer token accepted")

    try:
        ApiRoot(f"{url}/api/", user=user, password="wrong").refresh()
        check(False, "wrong password refused")
    except (TAXIIServiceException, requests.exceptions.HTTPError):
        check(True, "wrong password refused")
    print("taxii2-client: all checks passed")


if __name__ == "__main__":
    main()
