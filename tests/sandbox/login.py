"""The login surface: what ``login.microsoftonline.com`` answers for the client-credentials flow.

Routes (``{tenant}`` is the tenant GUID or one of its verified domain names):

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: the discovery document MSAL reads in its
  constructor (an unknown tenant answers 400 AADSTS90002, which MSAL turns into ``ValueError``);
- ``GET /{tenant}/discovery/v2.0/keys``: the signing keys;
- ``POST /{tenant}/oauth2/v2.0/token``: ``grant_type=client_credentials`` with ``client_secret`` (form body
  or HTTP Basic) or a ``client_assertion`` JWT signed by a certificate registered in the app's
  ``keyCredentials`` (header ``x5t`` or ``x5t#S256``, ``aud`` = this token endpoint, ``iss`` = ``sub`` =
  client id, within its lifetime), or a federated assertion (workload identity federation): a JWT of an OIDC issuer that
  matches a federated identity credential of the app (``graph_federated``) by issuer (else AADSTS700211), subject (else
  AADSTS700213) and audience (else AADSTS700212), no credential at all AADSTS70021, whose signature verifies with a key of
  the issuer's JWKS (``oidc_issuer``; an issuer whose keys cannot be fetched AADSTS50166) and which is within its time range
  (else AADSTS700024); scope must be a Graph ``/.default`` scope of one of the clouds;
- ``GET /oidc/{name}/.well-known/openid-configuration``, ``GET /oidc/{name}/jwks``: the sandbox's test OIDC issuers;
- ``GET /msi/token?resource=...&api-version=2019-08-01`` with ``X-IDENTITY-HEADER``: an App Service style
  managed identity endpoint that answers tokens for the automation app.

Errors follow Entra's shape: ``error``, ``error_description`` (``AADSTSnnn: ... Trace ID: ... Correlation ID:
... Timestamp: ...``), ``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``, ``error_uri``. A client
secret younger than the replication delay is refused with AADSTS7000215, as Entra does for a fresh secret.
"""
from __future__ import annotations

import base64
import datetime
import hmac
import urllib.parse

import jwt
from cryptography import x509

from . import graph_federated
from .graph_schema import UUID_RE, parse_date_time
from .http import Request, Response
from .oidc_issuer import BadSignature, IssuerUnreachable, OidcIssuers
from .tokens import GRAPH_APP_ID, GRAPH_RESOURCES, new_token_id

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_SKEW = 300
CERT_DOCS = "Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials ."
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


class LoginError(Exception):
    """An error answer of the token endpoint, worded as Entra words it."""

    def __init__(self, directory, status: int, error: str, code: int, text: str, correlation_id: str | None = None):
        super().__init__(text)
        self.status = status
        self.error = error
        self.code = code
        self.trace_id = directory.new_request_id()
        self.correlation_id = correlation_id or directory.new_request_id()
        now = datetime.datetime.fromtimestamp(directory.now(), datetime.timezone.utc)
        self.timestamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        self.description = "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s" % (code, text, self.trace_id, self.correlation_id, self.timestamp)

    def response(self, base_url: str) -> Response:
        body = {
            "error": self.error,
            "error_description": self.description,
            "error_codes": [self.code],
            "timestamp": self.timestamp,
            "trace_id": self.trace_id,
            "correlation_id": self.correlation_id,
            "error_uri": "%s/error?code=%d" % (base_url or "https://login.microsoftonline.com", self.code),
        }
        return Response(self.status, body, dict(NO_STORE))


def _unknown_tenant(directory, tenant: str, correlation_id: str | None = None) -> LoginError:
    return LoginError(directory, 400, "invalid_tenant", 90002,
                      "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your "
                      "subscription administrator, this may happen if there are no active subscriptions for the tenant." % tenant, correlation_id)


def _client_app(directory, tenant: str, client_id: str, correlation_id: str | None = None) -> tuple[dict, dict]:
    """The (application, service principal) a client id names in this tenant, or LoginError."""
    if not directory.resolve_tenant(tenant):
        raise _unknown_tenant(directory, tenant, correlation_id)
    app = directory.app_by_app_id(client_id) if UUID_RE.match(client_id or "") else None
    if app is None or directory.is_young(app["id"]):
        raise LoginError(directory, 400, "unauthorized_client", 700016,
                         "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed "
                         "by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to "
                         "the wrong tenant." % (client_id, directory.organization["displayName"]), correlation_id)
    sp = directory.sp_by_app_id(app["appId"])
    if sp is None or directory.is_young(sp["id"]):
        raise LoginError(directory, 400, "invalid_client", 7000229,
                         "The client application %s is missing service principal in the tenant %s. See instructions here: "
                         "https://go.microsoft.com/fwlink/?linkid=2225119" % (app["appId"], directory.tenant_id), correlation_id)
    if not sp.get("accountEnabled", True):
        raise LoginError(directory, 400, "unauthorized_client", 7000112, "Application '%s'(%s) is disabled." % (app["appId"], app["displayName"]),
                         correlation_id)
    return app, sp


def _secret_error(directory, app: dict, secret: str, correlation_id: str | None = None) -> LoginError | None:
    now = directory.now()
    for credential in app.get("passwordCredentials") or []:
        stored = directory.secrets.get(credential["keyId"])
        if stored is None or not hmac.compare_digest(stored.encode(), (secret or "").encode()):
            continue
        start = parse_date_time(credential.get("startDateTime") or "")
        end = parse_date_time(credential.get("endDateTime") or "")
        if directory.is_young(credential["keyId"]) or (start is not None and start.timestamp() > now):
            break
        if end is not None and end.timestamp() <= now:
            return LoginError(directory, 401, "invalid_client", 7000222,
                              "The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: "
                              "https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."
                              % app["appId"], correlation_id)
        return None
    return LoginError(directory, 401, "invalid_client", 7000215,
                      "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, "
                      "for a secret added to app '%s'." % app["appId"], correlation_id)


def check_client_secret(directory, tenant: str, client_id: str, secret: str) -> LoginError | None:
    """None when the token endpoint would accept (tenant, client id, secret); else its error. Hold directory.lock."""
    try:
        app, _sp = _client_app(directory, tenant, client_id)
    except LoginError as exc:
        return exc
    return _secret_error(directory, app, secret)


def _graph_audience(scope: str) -> str | None:
    if scope == GRAPH_APP_ID + "/.default":
        return GRAPH_APP_ID
    resource = scope[: -len("/.default")].rstrip("/")
    return resource if resource in GRAPH_RESOURCES else None


class LoginSurface:
    """Discovery, keys, token endpoint and the managed-identity endpoint for the sandbox tenant."""

    def __init__(self, directory):
        self.directory = directory
        self.oidc = OidcIssuers(clock=directory.now)

    def handle(self, req: Request) -> Response:
        with self.directory.lock:
            try:
                return self._route(req)
            except LoginError as exc:
                return exc.response(req.base_url)

    def _route(self, req: Request) -> Response:
        if req.path.rstrip("/") == "/msi/token":
            return self._managed_identity(req)
        segments = [s for s in req.path.split("/") if s]
        if not segments:
            return self._not_found(req)
        if segments[0] == "oidc":
            return self.oidc.handle(req, segments[1:])
        tenant, rest = segments[0], "/".join(segments[1:])
        correlation_id = req.header("client-request-id")
        if rest in ("v2.0/.well-known/openid-configuration", ".well-known/openid-configuration"):
            if not self.directory.resolve_tenant(tenant):
                raise _unknown_tenant(self.directory, tenant, correlation_id)
            return Response(200, self._discovery(req.base_url, tenant, v2=rest.startswith("v2.0")))
        if rest in ("discovery/v2.0/keys", "discovery/keys"):
            if not self.directory.resolve_tenant(tenant):
                raise _unknown_tenant(self.directory, tenant, correlation_id)
            return Response(200, self.directory.tokens.jwks(self._issuer(req.base_url)))
        if rest == "oauth2/v2.0/token":
            return self._token(req, tenant, correlation_id)
        return self._not_found(req)

    @staticmethod
    def _not_found(req: Request) -> Response:
        return Response(404, {"error": "not_found", "error_description": "The sandbox login surface has no route %s %s." % (req.method, req.path)})

    def _issuer(self, base_url: str) -> str:
        return "%s/%s/v2.0" % (base_url, self.directory.tenant_id)

    def _discovery(self, base_url: str, tenant: str, v2: bool) -> dict:
        """The OpenID configuration; endpoints name the tenant GUID even when asked by domain name, as Entra's do."""
        tid = self.directory.tenant_id
        root = "%s/%s" % (base_url, tid)
        return {
            "token_endpoint": "%s/oauth2/v2.0/token" % root,
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": "%s/discovery/v2.0/keys" % root,
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": self._issuer(base_url) if v2 else "https://sts.windows.net/%s/" % tid,
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "%s/oidc/userinfo" % base_url,
            "authorization_endpoint": "%s/oauth2/v2.0/authorize" % root,
            "device_authorization_endpoint": "%s/oauth2/v2.0/devicecode" % root,
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": "%s/oauth2/v2.0/logout" % root,
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp",
                                 "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "kerberos_endpoint": "%s/kerberos" % root,
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    # ------------------------------------------------------------------ token endpoint

    def _token(self, req: Request, tenant: str, correlation_id: str | None) -> Response:
        directory = self.directory
        if req.method != "POST":
            raise LoginError(directory, 400, "invalid_request", 900561,
                             "The endpoint only accepts POST requests. Received a %s request." % req.method, correlation_id)
        if not directory.resolve_tenant(tenant):
            raise _unknown_tenant(directory, tenant, correlation_id)
        form = req.body if isinstance(req.body, dict) and not (req.header("content-type") or "").startswith("application/json") else {}
        form = {k: v for k, v in form.items() if isinstance(v, str)}
        basic_id, basic_secret = self._basic_auth(req)

        def require(name: str, value: str | None) -> str:
            if not value:
                raise LoginError(directory, 400, "invalid_request", 900144, "The request body must contain the following parameter: '%s'." % name,
                                 correlation_id)
            return value

        grant_type = require("grant_type", form.get("grant_type"))
        if grant_type != "client_credentials":
            raise LoginError(directory, 400, "unsupported_grant_type", 70003,
                             "The app requested an unsupported grant type '%s'." % grant_type, correlation_id)
        client_id = require("client_id", form.get("client_id") or basic_id)
        scope = require("scope", form.get("scope"))
        app, sp = _client_app(directory, tenant, client_id, correlation_id)
        audience = self._audience(scope, correlation_id)

        secret = form.get("client_secret") or basic_secret
        assertion = form.get("client_assertion")
        if assertion:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise LoginError(directory, 400, "invalid_request", 900144,
                                 "The request body must contain the following parameter: 'client_assertion_type'.", correlation_id)
            if self._is_federated(app, assertion):
                self._check_federated(req, app, assertion, correlation_id)
            else:
                self._check_assertion(req, tenant, app, assertion, correlation_id)
            appidacr = "2"
        elif secret:
            error = _secret_error(directory, app, secret, correlation_id)
            if error is not None:
                raise error
            appidacr = "1"
        else:
            raise LoginError(directory, 401, "invalid_client", 7000218,
                             "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", correlation_id)
        return Response(200, self._token_reply(app, sp, audience, appidacr), dict(NO_STORE))

    def _token_reply(self, app: dict, sp: dict, audience: str, appidacr: str) -> dict:
        directory = self.directory
        roles = directory.graph_roles(sp["id"])
        token, lifetime = directory.tokens.issue(tenant_id=directory.tenant_id, audience=audience, app_id=app["appId"],
                                                 app_display_name=app["displayName"], object_id=sp["id"], roles=roles,
                                                 appidacr=appidacr, token_id=new_token_id())
        return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}

    @staticmethod
    def _basic_auth(req: Request) -> tuple[str | None, str | None]:
        header = req.header("authorization") or ""
        if not header.lower().startswith("basic "):
            return None, None
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except ValueError:
            return None, None
        user, _colon, password = decoded.partition(":")
        return urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password)

    def _audience(self, scope: str, correlation_id: str | None) -> str:
        directory = self.directory
        scopes = scope.split()
        if len(scopes) != 1:
            raise LoginError(directory, 400, "invalid_scope", 70011,
                             "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. "
                             "The scope %s is not valid." % scope, correlation_id)
        value = scopes[0]
        if not value.endswith("/.default"):
            raise LoginError(directory, 400, "invalid_scope", 1002012,
                             "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the "
                             "resource identifier (application ID URI)." % value, correlation_id)
        audience = _graph_audience(value)
        if audience is None:
            resource = value[: -len("/.default")]
            raise LoginError(directory, 400, "invalid_resource", 500011,
                             "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been "
                             "installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your "
                             "authentication request to the wrong tenant." % (resource, directory.organization["displayName"]), correlation_id)
        return audience

    def _token_endpoints(self, base_url: str, tenant: str) -> set[str]:
        names = {tenant, self.directory.tenant_id} | set(self.directory.verified_domains())
        out = set()
        for name in names:
            for path in ("oauth2/v2.0/token", "oauth2/token"):
                out.add("%s/%s/%s" % (base_url, name, path))
        return out

    def _check_assertion(self, req: Request, tenant: str, app: dict, assertion: str, correlation_id: str | None) -> None:
        """Verify a client assertion the way Entra does for certificate credentials."""
        directory = self.directory

        def fail(code: int, text: str) -> LoginError:
            return LoginError(directory, 401, "invalid_client", code, text, correlation_id)

        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise fail(50027, "JWT token is invalid or malformed.") from None
        x5t, x5t256 = header.get("x5t"), header.get("x5t#S256")
        shown = self._thumbprint_hex(x5t or x5t256)
        reason_tail = ("Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured "
                       "keys for app Id '%s'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments if you are using national "
                       "clouds." % (shown, app["appId"]))
        match = directory.certificate_for(app, x5t, x5t256)
        if match is None:
            raise fail(700027, "Client assertion contains an invalid signature. [Reason - The key was not found., %s]" % reason_tail)
        credential, der = match
        end = parse_date_time(credential.get("endDateTime") or "")
        if end is not None and end.timestamp() <= directory.now():
            raise fail(700027, "Client assertion contains an invalid signature. [Reason - The key used is expired., %s]" % reason_tail)
        if header.get("alg") not in ("RS256", "PS256"):
            raise fail(700027, "Client assertion contains an invalid signature. [Reason - The provided signature algorithm is not supported., %s]"
                       % reason_tail)
        public_key = x509.load_der_x509_certificate(der).public_key()
        try:
            claims = jwt.decode(assertion, public_key, algorithms=[header["alg"]],
                                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_iss": False})
        except jwt.InvalidSignatureError:
            raise fail(700027, "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected "
                       "signature value., %s]" % reason_tail) from None
        except jwt.PyJWTError:
            raise fail(50027, "JWT token is invalid or malformed.") from None
        if claims.get("aud") not in self._token_endpoints(req.base_url, tenant):
            raise fail(700021, "Client assertion audience claim does not match Realm issuer. %s" % CERT_DOCS)
        if claims.get("iss") != app["appId"] or claims.get("sub") != app["appId"]:
            raise fail(50027, "JWT token is invalid or malformed.")
        now = directory.now()
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat", 0))
        if not isinstance(exp, (int, float)) or now > exp + ASSERTION_SKEW or (isinstance(nbf, (int, float)) and now + ASSERTION_SKEW < nbf):
            def show(ts) -> str:
                return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%m/%d/%Y %H:%M:%S") if isinstance(ts, (int, float)) else "?"
            raise fail(700024, "Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of "
                       "assertion %s. %s" % (show(now), show(nbf), show(exp), CERT_DOCS))

    @staticmethod
    def _is_federated(app: dict, assertion: str) -> bool:
        """A federated assertion is issued by someone else (no certificate thumbprint, ``iss`` not the app itself)."""
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        return not (header.get("x5t") or header.get("x5t#S256")) and claims.get("iss") != app["appId"]

    def _check_federated(self, req: Request, app: dict, assertion: str, correlation_id: str | None) -> None:
        """Workload identity federation as Entra checks it: a matching credential, the issuer's signature, the time range."""
        directory = self.directory
        claims = jwt.decode(assertion, options={"verify_signature": False})
        issuer, subject, audience = claims.get("iss"), claims.get("sub"), claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        check = ("Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. "
                 "https://learn.microsoft.com/entra/workload-id/workload-identity-federation")

        def fail(code: int, text: str, error: str = "invalid_client") -> LoginError:
            return LoginError(directory, 400, error, code, text, correlation_id)

        credentials = graph_federated.replicated(directory, app)
        if not credentials:
            raise fail(70021, "No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: "
                       "'%s'. Assertion Audience: '%s'. %s" % (issuer, subject, ",".join(map(str, audiences)), check), error="invalid_request")
        by_issuer = [c for c in credentials if c["issuer"] == issuer]
        if not by_issuer:
            raise fail(700211, "No matching federated identity record found for presented assertion issuer '%s'. %s" % (issuer, check))
        by_subject = [c for c in by_issuer if c["subject"] == subject]
        if not by_subject:
            raise fail(700213, "No matching federated identity record found for presented assertion subject '%s'. %s" % (subject, check))
        if not any(a in c["audiences"] for c in by_subject for a in audiences):
            raise fail(700212, "No matching federated identity record found for presented assertion audience '%s'. %s"
                       % (",".join(map(str, audiences)), check))
        try:
            self.oidc.verify(req.base_url, assertion)
        except IssuerUnreachable:
            raise fail(50166, "Request to External OIDC endpoint failed. Issuer: '%s'." % issuer) from None
        except (BadSignature, jwt.PyJWTError):
            raise fail(700027, "Client assertion contains an invalid signature. [Reason - The key was not found., Issuer: '%s']" % issuer) from None
        now = directory.now()
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat", 0))
        if not isinstance(exp, (int, float)) or now > exp + ASSERTION_SKEW or (isinstance(nbf, (int, float)) and now + ASSERTION_SKEW < nbf):
            def show(ts) -> str:
                return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%m/%d/%Y %H:%M:%S") if isinstance(ts, (int, float)) else "?"
            raise LoginError(directory, 401, "invalid_client", 700024, "Client assertion is not within its valid time range. Current time: %s, "
                             "assertion valid from %s, expiry time of assertion %s. %s" % (show(now), show(nbf), show(exp), CERT_DOCS), correlation_id)

    @staticmethod
    def _thumbprint_hex(value: str | None) -> str:
        if not value:
            return ""
        try:
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex().upper()
        except ValueError:
            return value

    # ------------------------------------------------------------------ managed identity

    def _managed_identity(self, req: Request) -> Response:
        """App Service managed identity (api-version 2019-08-01): a token for the automation app's identity."""
        directory = self.directory
        if req.method != "GET":
            return Response(405, {"statusCode": 405, "message": "Only GET is supported."})
        if not hmac.compare_digest((req.header("x-identity-header") or "").encode(), directory.managed_identity_header.encode()):
            return Response(401, {"statusCode": 401, "message": "The X-IDENTITY-HEADER is missing or does not match."})
        if req.query.get("api-version") != "2019-08-01":
            return Response(400, {"statusCode": 400, "message": "An api-version of 2019-08-01 is required."})
        resource = (req.query.get("resource") or "").rstrip("/")
        audience = _graph_audience(resource + "/.default") if resource else None
        if audience is None:
            return Response(500, {"statusCode": 500, "message": "An unexpected error occured while fetching the AAD Token."})
        app, sp = directory.automation_app, directory.automation_sp
        reply = self._token_reply(app, sp, audience, "2")
        return Response(200, {"access_token": reply["access_token"], "expires_on": str(int(directory.now()) + reply["expires_in"]),
                              "resource": req.query.get("resource"), "token_type": "Bearer", "client_id": app["appId"]}, dict(NO_STORE))
