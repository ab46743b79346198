#!/usr/bin/env python3
"""The hand-written join operators use, as a resolver process for `ipar accuracy
--system-command` (test/harness/command.test.ts): the first observation's instant at
face value, the last lease of that address that started before it — no tolerance, no
end check, no NAT chaining, no flags. Records: the NDJSON file IPAR_RECORDS names;
requests on stdin, results on stdout, one NDJSON line each, in order."""
import ipaddress
import json
import os
import sys
from datetime import datetime
from zoneinfo import ZoneInfo


def instant(time):
    if isinstance(time, str):
        return datetime.fromisoformat(time).timestamp()
    if "local" in time:
        return datetime.fromisoformat(time["local"]).replace(tzinfo=ZoneInfo(time["timeZone"])).timestamp()
    start = datetime.fromisoformat(time["from"])
    if "timeZone" in time:
        start = start.replace(tzinfo=ZoneInfo(time["timeZone"]))
    return start.timestamp()


def main():
    leases = []
    with open(os.environ["IPAR_RECORDS"], encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("kind") == "allocation" and "realm" not in r:
                leases.append((ipaddress.ip_network(r["ip"], strict=False), datetime.fromisoformat(r["start"]).timestamp(), r["account"]))
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        o = request["observations"][0]
        address = ipaddress.ip_address(o["sourceIp"])
        t = instant(o["time"])
        best = None
        for net, start, account in leases:
            if address.version == net.version and address in net and start <= t and (best is None or start >= best[0]):
                best = (start, account)
        candidates = [] if best is None else [{"account": best[1]}]
        status = "unique" if candidates else "none"
        print(json.dumps({"ref": request.get("ref"), "status": status, "candidateCount": len(candidates), "candidates": candidates}))


if __name__ == "__main__":
    main()
