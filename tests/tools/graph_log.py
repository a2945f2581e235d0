"""Extract the Microsoft Graph requests from sandbox request logs (JSON lines) for the conformance check.

Usage: graph_log.py TARGET SOURCE [SOURCE...]

The sandbox logs each path decoded. A value in an alternate key (``applications(uniqueName='...')``) is sent
percent-encoded, so a hostile one such as ``a')/owners?x=('`` stays one key on the wire; decoded, it would read as
another path. Such values are encoded again here, as the collection sent them, before the check reads the path.
"""
import json
import re
import sys
from urllib.parse import quote

ALTERNATE_KEY = re.compile(r"\((\w+)='((?:[^']|'')*)'\)")


def wire_path(path):
    """``path`` with the value of every alternate key percent-encoded (quotes stay doubled, as OData wants)."""
    return ALTERNATE_KEY.sub(lambda match: "(%s='%s')" % (match.group(1), quote(match.group(2), safe="'@")), path)


def main(target, sources):
    kept = 0
    with open(target, "w", encoding="utf-8") as out:
        for source in sources:
            with open(source, encoding="utf-8") as lines:
                for line in lines:
                    entry = json.loads(line)
                    if entry.get("surface") == "graph":
                        entry["path"] = wire_path(entry["path"])
                        out.write(json.dumps(entry) + "\n")
                        kept += 1
    print("%d Graph requests extracted from %s" % (kept, ", ".join(sources)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
