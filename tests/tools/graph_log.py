"""Extract the Microsoft Graph requests from sandbox request logs (JSON lines) for the conformance check.

Usage: graph_log.py TARGET SOURCE [SOURCE...]
"""
import json
import sys


def main(target, sources):
    kept = 0
    with open(target, "w", encoding="utf-8") as out:
        for source in sources:
            with open(source, encoding="utf-8") as lines:
                for line in lines:
                    entry = json.loads(line)
                    if entry.get("surface") == "graph":
                        out.write(json.dumps(entry) + "\n")
                        kept += 1
    print("%d Graph requests extracted from %s" % (kept, ", ".join(sources)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
