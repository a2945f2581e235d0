# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every Microsoft Graph request in a sandbox request log (JSON lines), $batch members included, needs a permission of
the one table (plugins/module_utils/_graph/permissions.py). Usage: check_permissions.py COLLECTIONS_PATHS LOG [FIRST_LINE]
(COLLECTIONS_PATHS separated by ":"; lines before FIRST_LINE, counted from 0, are other targets' requests). Exit 1 naming
the requests no row of the table covers."""

import json
import sys


def main(collections_paths, log, first_line=0):
    sys.path[:0] = [path for path in collections_paths.split(":") if path]
    from ansible_collections.smarttrace.sso.plugins.module_utils._graph.permissions import permission_for

    checked, unmatched, needed = 0, set(), set()
    with open(log, encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number < first_line:
                continue
            entry = json.loads(line)
            if entry.get("surface") != "graph":
                continue
            requests = [(entry["method"], entry["path"])]
            body = entry.get("body")
            if entry["path"].endswith("/$batch") and isinstance(body, dict):
                requests += [(item["method"], "/" + item["url"].lstrip("/")) for item in body.get("requests") or []]
            for method, path in requests:
                checked += 1
                known, permission = permission_for(method, path)
                if not known:
                    unmatched.add("%s %s" % (method, path.split("?", 1)[0]))
                elif permission:
                    needed.add(permission)
    print("%d Graph requests checked; permissions they need: %s" % (checked, ", ".join(sorted(needed))))
    if unmatched or not checked:
        print("not in the table: %s" % ("; ".join(sorted(unmatched)) or "(no request)"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0))
