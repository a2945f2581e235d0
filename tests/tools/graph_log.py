"""Extract the Microsoft Graph requests from a sandbox request log (JSON lines) for the conformance check."""
import json
import sys


def main(source, target):
    kept = 0
    with open(source, encoding="utf-8") as lines, open(target, "w", encoding="utf-8") as out:
        for line in lines:
            entry = json.loads(line)
            if entry.get("surface") == "graph":
                out.write(json.dumps(entry) + "\n")
                kept += 1
    print("%d Graph requests extracted from %s" % (kept, source))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
