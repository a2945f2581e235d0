"""Print shell `export` lines that point the collection at a running sandbox (from endpoint.json).

The same environment variables work against a real tenant: they are the collection's documented
fallbacks (AZURE_*, ENTRA_GRAPH_URL, SMARTTRACE_*). Usage: eval "$(python sandbox_env.py ENDPOINT_JSON)"
"""
import json
import shlex
import sys

MAPPING = {
    "AZURE_TENANT_ID": "tenant_id",
    "AZURE_CLIENT_ID": "client_id",
    "AZURE_CLIENT_SECRET": "client_secret",
    "AZURE_AUTHORITY_HOST": "authority_url",
    "ENTRA_GRAPH_URL": "graph_url",
    "REQUESTS_CA_BUNDLE": "ca",
    "SMARTTRACE_API_URL": "smarttrace_url",
    "SMARTTRACE_API_TOKEN": "smarttrace_token",
}


def main(path):
    with open(path, encoding="utf-8") as handle:
        endpoint = json.load(handle)
    for variable, key in MAPPING.items():
        print("export %s=%s" % (variable, shlex.quote(str(endpoint[key]))))


if __name__ == "__main__":
    main(sys.argv[1])
