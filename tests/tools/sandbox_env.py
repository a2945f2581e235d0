"""Point the collection at a running sandbox (from its endpoint.json), with absolute paths.

The variables are the collection's documented fallbacks, the same against a real tenant: AZURE_*, ENTRA_GRAPH_URL,
SMARTTRACE_API_URL, SMARTTRACE_API_TOKEN, and the sandbox's CA for the collection only in ENTRA_CA_PATH and
SMARTTRACE_CA_PATH (the modules' ca_path), never REQUESTS_CA_BUNDLE: that would change the CA of every program of the
shell (pip would stop trusting PyPI).

  python sandbox_env.py ENDPOINT_JSON                 print export lines, for eval "$(...)" in a script's subshell
  python sandbox_env.py ENDPOINT_JSON --env-file FILE [--venv DIR] [--collections DIR]
                                                      write FILE for ". FILE" in a user's shell (make sandbox-start):
                                                      the above, plus PATH with the venv's bin and ANSIBLE_COLLECTIONS_PATH
"""
import argparse
import json
import os
import shlex

MAPPING = {
    "AZURE_TENANT_ID": "tenant_id",
    "AZURE_CLIENT_ID": "client_id",
    "AZURE_CLIENT_SECRET": "client_secret",
    "AZURE_AUTHORITY_HOST": "authority_url",
    "ENTRA_GRAPH_URL": "graph_url",
    "ENTRA_CA_PATH": "ca",
    "SMARTTRACE_API_URL": "smarttrace_url",
    "SMARTTRACE_CA_PATH": "ca",
    "SMARTTRACE_API_TOKEN": "smarttrace_token",
}


def load(path):
    """endpoint.json, with the CA as an absolute path (the sandbox writes it relative to where it was started)."""
    with open(path, encoding="utf-8") as handle:
        endpoint = json.load(handle)
    ca = endpoint["ca"]
    if not os.path.isabs(ca):
        # the sandbox's state folder is the folder of endpoint.json
        ca = os.path.join(os.path.dirname(os.path.abspath(path)), os.path.basename(ca))
    endpoint["ca"] = ca
    return endpoint


def collection_environment(endpoint):
    """The environment variables that point the collection's modules at the sandbox."""
    ca = endpoint["ca"]
    if not os.path.isabs(ca):
        raise ValueError("the sandbox CA path %s is relative; read endpoint.json with load()" % ca)
    return {variable: str(endpoint[key]) for variable, key in MAPPING.items()}


def env_file_text(endpoint, venv=None, collections=None):
    lines = ["# Written by make sandbox-start for the sandbox at %s. In a shell: . %s" % (endpoint["url"], "<this file>"),
             "# Sets, for this shell only: the venv's ansible-playbook on PATH, the installed collection, and the sandbox's",
             "# tenant, credentials and CA for the collection (ENTRA_CA_PATH, SMARTTRACE_CA_PATH; not REQUESTS_CA_BUNDLE)."]
    if venv:
        lines.append('export PATH=%s:"$PATH"' % shlex.quote(os.path.join(os.path.abspath(venv), "bin")))
    if collections:
        lines.append("export ANSIBLE_COLLECTIONS_PATH=%s" % shlex.quote(os.path.abspath(collections)))
    for variable, value in collection_environment(endpoint).items():
        lines.append("export %s=%s" % (variable, shlex.quote(value)))
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("endpoint")
    parser.add_argument("--env-file")
    parser.add_argument("--venv")
    parser.add_argument("--collections")
    args = parser.parse_args(argv)
    endpoint = load(args.endpoint)
    if args.env_file:
        text = env_file_text(endpoint, args.venv, args.collections).replace("<this file>", os.path.abspath(args.env_file))
        descriptor = os.open(args.env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds a client secret
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    for variable, value in collection_environment(endpoint).items():
        print("export %s=%s" % (variable, shlex.quote(value)))


if __name__ == "__main__":
    main()
