"""A small stand-in for the Entra ID side of the sandbox (directory, login, Graph), for these tests only.

Used when the real ``sandbox.directory``, ``sandbox.login`` and ``sandbox.graph`` modules cannot be
imported yet; it implements just the interface ``sandbox.server.Sandbox`` relies on.
"""
from __future__ import annotations

from sandbox.http import Response
from sandbox.server import EntraParts

TENANT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "00000000-aaaa-bbbb-cccc-000000000001"


class StandInDirectory:
    def __init__(self, state_dir, faults, seed: int = 0):
        self.state_dir, self.faults, self.seed = state_dir, faults, seed
        self.client_secret = "Sbx~standin~client~secret~%04d~abcdefgh" % seed
        self.resets = 0

    def endpoint_fields(self) -> dict:
        return {"tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": self.client_secret, "domains": ["sandbox.example"]}

    def snapshot(self) -> dict:
        return {"tenant_id": TENANT_ID, "resets": self.resets}

    def reset(self) -> None:
        self.resets += 1

    def admin(self, op: str, body) -> Response:
        if op == "echo":
            return Response(200, {"op": op, "body": body})
        return Response(404, {"error": {"code": "not_found", "message": "unknown directory operation %s" % op}})

    def redeem_client_secret(self, tenant: str, client_id: str, secret: str):
        if tenant != TENANT_ID:
            return False, "AADSTS90002: Tenant '%s' not found." % tenant
        if client_id != CLIENT_ID:
            return False, "AADSTS700016: Application with identifier '%s' was not found in the directory." % client_id
        if secret != self.client_secret:
            return False, "AADSTS7000215: Invalid client secret provided."
        return True, None


class StandInLogin:
    def __init__(self, directory: StandInDirectory):
        self.directory = directory

    def handle(self, req) -> Response:
        if req.path.endswith("/oauth2/v2.0/token") and req.method == "POST":
            body = req.body or {}
            ok, error = self.directory.redeem_client_secret(req.path.split("/")[1], body.get("client_id"), body.get("client_secret"))
            if ok:
                return Response(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": "standin-token"})
            return Response(401, {"error": "invalid_client", "error_description": error})
        return Response(404, {"error": "not_found"})


class StandInGraph:
    def __init__(self, directory: StandInDirectory, faults):
        self.directory, self.faults = directory, faults

    def handle(self, req) -> Response:
        if req.method == "GET":
            return Response(200, {"value": []})
        if req.method == "POST":
            return Response(201, {"id": "standin"})
        return Response(204)


PARTS = EntraParts(StandInDirectory, StandInLogin, StandInGraph)
