"""Write tests/integration/integration_config.yml for ansible-test from the sandbox's endpoint.json.

ansible-test passes this file to every integration target as extra variables. The same file,
written by hand with a real tenant's values (see integration_config.yml.sample), runs the targets
live.
"""
import json
import os
import sys


def main(endpoint_path, output_path):
    with open(endpoint_path, encoding="utf-8") as handle:
        endpoint = json.load(handle)
    config = {"sandbox": True, "sandbox_url": endpoint["url"]}
    config.update({"entra_" + key: endpoint[key] for key in ("tenant_id", "client_id", "client_secret", "authority_url", "graph_url")})
    config["entra_ca_path"] = endpoint["ca"]
    config.update({key: endpoint[key] for key in endpoint if key.startswith("smarttrace_")})
    for key in ("domains", "instances", "limited_client_id", "limited_client_secret",
                "client_certificate_path", "client_certificate_pfx_path", "client_certificate_password"):
        if key in endpoint:
            config["sandbox_" + key] = endpoint[key]
    fd = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        # JSON is YAML; ansible-test reads it as YAML.
        json.dump(config, handle, indent=2, sort_keys=True)
        handle.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
