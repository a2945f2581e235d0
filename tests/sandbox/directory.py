"""The sandbox tenant: one Entra ID directory held in memory, seeded, thread-safe (one lock).

What it holds mirrors a real tenant as Microsoft Graph shows it: applications, service principals,
users, groups, app role assignments, delegated permission grants, soft-deleted items, domains, the
organization and the gallery's application templates. Ids and secrets come from a
``random.Random(seed)`` so a run is repeatable; every time comes from one clock function.

Seed:

- a tenant (seeded GUID), verified domains ``contoso.onmicrosoft.com`` (initial) and ``contoso.example``,
  and ``fabrikam.example`` added but not verified;
- the Microsoft Graph service principal with its real delegated scopes and application roles;
- the automation app ``SmartTrace Automation`` with a client secret, a certificate (in the state folder, 0600:
  ``client_cert.pem`` certificate followed by its private key, as azure-identity's AZURE_CLIENT_CERTIFICATE_PATH
  expects; ``client_key.pem`` the key alone; ``client_cert.pfx`` both, password protected) and Graph application roles
  Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All, User.ReadWrite.All, Directory.Read.All,
  DelegatedPermissionGrant.ReadWrite.All; it is also the sandbox's managed identity;
- a "limited" automation app with Application.Read.All only (for 403 tests);
- users Adele Vance, Alex Wilber, Megan Bowen, Lee Gu; groups "SmartTrace Users" and "Contractors";
- the gallery application template "SmartTrace" and the non-gallery "Custom" template.
"""
from __future__ import annotations

import base64
import copy
import dataclasses
import datetime
import functools
import hashlib
import hmac
import pathlib
import random
import string
import threading
import time
import typing as t
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from .faults import Faults
from .graph_schema import parse_date_time
from .http import Response
from .login import check_client_secret
from .tls import write_private_file
from .tokens import GRAPH_APP_ID, TokenIssuer, process_key, self_signed

MICROSOFT_TENANT_ID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
SEED_AGE = 30 * 86400          # seeded objects were created a month before the clock's start
TWO_YEARS = datetime.timedelta(days=730)

INITIAL_DOMAIN = "contoso.onmicrosoft.com"
CUSTOM_DOMAIN = "contoso.example"
UNVERIFIED_DOMAIN = "fabrikam.example"
ORGANIZATION_NAME = "Contoso"

# Microsoft Graph delegated permissions used for OIDC sign-in (contract 1.5).
GRAPH_SCOPES = (
    ("openid", "37f7f235-527c-4136-accd-4a02d197296e", "Sign users in", "Allows users to sign in to the app with their work or school accounts."),
    ("profile", "14dad69e-099b-42c9-810b-d002981feec1", "View users' basic profile", "Allows the app to see your users' basic profile."),
    ("email", "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "View users' email address", "Allows the app to read your users' primary email address."),
    ("offline_access", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "Maintain access to data you have given it access to",
     "Allows the app to see and update the data you gave it access to, even when users are not currently using the app."),
    ("User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "Sign in and read user profile",
     "Allows users to sign-in to the app, and allows the app to read the profile of signed-in users."),
)
# Microsoft Graph application permissions (app roles on the Graph service principal, contract 8.1).
GRAPH_ROLES = (
    ("Application.ReadWrite.OwnedBy", "18a4783c-866b-4cc7-a460-3d5e5662c884", "Manage apps that this app creates or owns"),
    ("Application.ReadWrite.All", "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Read and write all applications"),
    ("Application.Read.All", "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Read all applications"),
    ("AppRoleAssignment.ReadWrite.All", "06b708a9-e830-4db3-a914-8e69da51d44f", "Manage app permission grants and app role assignments"),
    ("User.ReadWrite.All", "741f803b-c850-494e-b5df-cde7c675a1ca", "Read and write all users' full profiles"),
    ("User.Read.All", "df021288-bdef-4463-88db-98f22de89214", "Read all users' full profiles"),
    ("Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Read directory data"),
    ("Directory.ReadWrite.All", "19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Read and write directory data"),
    ("Group.Read.All", "5b567255-7703-4780-807c-7be8301ae99b", "Read all groups"),
    ("Group.ReadWrite.All", "62a82d76-70ea-41e2-9197-370581804d09", "Read and write all groups"),
    ("DelegatedPermissionGrant.ReadWrite.All", "8e8e4742-1d95-4f68-9d56-6ee75648c72a", "Manage all delegated permission grants"),
)
AUTOMATION_ROLES = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.Read.All",
                    "DelegatedPermissionGrant.ReadWrite.All")
LIMITED_ROLES = ("Application.Read.All",)

SMARTTRACE_TEMPLATE_ID = "5c2a9f3e-8b1d-4e6a-9c07-3f4d2b1a8e65"
CUSTOM_TEMPLATE_ID = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"   # Microsoft's non-gallery ("Custom") template
# What real Graph gives an application created without signInAudience (recorded: POST /applications {displayName}
# answers AzureADandPersonalMicrosoftAccount and api.requestedAccessTokenVersion 2; its service principal shows the same audience).
DEFAULT_SIGN_IN_AUDIENCE = "AzureADandPersonalMicrosoftAccount"
PERSONAL_AUDIENCES = ("AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")

SECRET_ALPHABET = string.ascii_letters + string.digits + "~._-"
SEED_USERS = (
    ("Adele Vance", "Adele", "Vance", "AdeleV", "Retail Manager"),
    ("Alex Wilber", "Alex", "Wilber", "AlexW", "Marketing Assistant"),
    ("Megan Bowen", "Megan", "Bowen", "MeganB", "Marketing Manager"),
    ("Lee Gu", "Lee", "Gu", "LeeG", "Director"),
)
USER_KINDS = ("application", "servicePrincipal", "user", "group")


@dataclasses.dataclass
class Meta:
    """Bookkeeping Graph does not show: creation time (replication), order and owners."""

    created: float
    seq: int
    owners: list[str] = dataclasses.field(default_factory=list)


class CertificateMaterial(t.NamedTuple):
    cert_der: bytes
    cert_pem: bytes
    key_pem: bytes
    pfx: bytes
    password: str


@functools.lru_cache(maxsize=8)
def _client_certificate(seed: int, not_before: datetime.datetime) -> CertificateMaterial:
    """The automation app's certificate, its key and a password-protected PFX (made once per seed and day in a process)."""
    key = process_key("client-certificate")
    cert = self_signed(key, "SmartTrace Automation", not_before, 730, 2 + seed)
    password_rng = random.Random("pfx-%d" % seed)
    password = "".join(password_rng.choice(string.ascii_letters + string.digits) for _index in range(24))
    pfx = pkcs12.serialize_key_and_certificates(b"smarttrace-automation", key, cert, None, serialization.BestAvailableEncryption(password.encode()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return CertificateMaterial(cert.public_bytes(serialization.Encoding.DER), cert.public_bytes(serialization.Encoding.PEM), key_pem, pfx, password)


def default_token_version(audience: str | None) -> int | None:
    """api.requestedAccessTokenVersion of a new app that does not set it: 2 where personal accounts sign in (v1 tokens cannot serve them)."""
    return 2 if audience in PERSONAL_AUDIENCES else None


def newest_first(directory: "Directory", credentials: list[dict]) -> list[dict]:
    """A credential list (passwordCredentials, keyCredentials) in the order real Graph lists it: the newest first."""
    return sorted(credentials, key=lambda credential: directory.seq(credential["keyId"]), reverse=True)


def dotnet_subject(name: x509.Name) -> str:
    """A certificate subject as Entra ID shows it as a keyCredential's default displayName: ``CN=a, O=b, S=c, C=AU``.

    Most specific first (as RFC 4514), ``, `` between parts, and the short names of .NET's X500DistinguishedName.
    """
    short = {NameOID.STATE_OR_PROVINCE_NAME: "S", NameOID.EMAIL_ADDRESS: "E", NameOID.GIVEN_NAME: "G", NameOID.SURNAME: "SN",
             NameOID.TITLE: "T", NameOID.SERIAL_NUMBER: "SERIALNUMBER", NameOID.STREET_ADDRESS: "STREET"}
    parts = []
    for rdn in reversed(list(name.rdns)):
        parts.append("+".join("%s=%s" % (short.get(attr.oid) or attr.rfc4514_string().split("=", 1)[0], attr.value) for attr in rdn))
    return ", ".join(parts)


def thumbprint_hex(der: bytes) -> str:
    """A certificate's SHA-1 thumbprint as Graph shows it in customKeyIdentifier: 40 upper-case hex digits."""
    return hashlib.sha1(der).hexdigest().upper()  # noqa: S324 - the thumbprint is SHA-1 by definition


def iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_stamp(ts: float) -> str:
    """A moment Graph stamps itself (a new secret's default startDateTime): to the 100 ns, as in ``2026-06-01T12:00:00.1234567Z``."""
    whole = int(ts // 1)
    return iso(whole)[:-1] + ".%07dZ" % min(int(round((ts - whole) * 10 ** 7)), 10 ** 7 - 1)


def to_ts(value: datetime.datetime) -> float:
    return value.timestamp()


def _thumbprint_bytes(value: str | None) -> bytes | None:
    """A JWT x5t / x5t#S256 header value (base64url, padded or not) as bytes; None when absent or not base64."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().rstrip("=").replace("+", "-").replace("/", "_")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return None


def admin_error(status: int, message: str) -> Response:
    code = {400: "bad_request", 404: "not_found"}.get(status, "error")
    return Response(status, {"error": {"code": code, "message": message}})


class Directory:
    """The tenant. Surfaces hold ``lock`` while they read or change it."""

    def __init__(self, state_dir: pathlib.Path, faults: Faults, seed: int = 0, clock: t.Callable[[], float] | None = None):
        self.state_dir = pathlib.Path(state_dir)
        self.faults = faults
        self.seed = seed
        self.clock = clock or time.time
        self.lock = threading.RLock()
        self.tokens = TokenIssuer(self.clock)
        self._make_client_certificate()
        self.reset()

    # ------------------------------------------------------------------ basics

    def now(self) -> float:
        return self.clock()

    def now_iso(self) -> str:
        return iso(self.clock())

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_request_id(self) -> str:
        return str(uuid.UUID(int=self._request_rng.getrandbits(128), version=4))

    def new_secret(self) -> str:
        """A client secret shaped like Entra's: 40 characters, ``<3 chars><digit>Q~<34 chars>``."""
        pick = self.rng.choice
        head = "".join(pick(string.ascii_letters + string.digits) for _index in range(3)) + pick(string.digits) + "Q~"
        return head + "".join(pick(SECRET_ALPHABET) for _index in range(34))

    def new_opaque_id(self, principal_id: str) -> str:
        """An id like an appRoleAssignment's: base64url of 32 bytes, starting with the principal's GUID bytes."""
        raw = uuid.UUID(principal_id).bytes_le + self.rng.getrandbits(128).to_bytes(16, "big")
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @property
    def replication_delay(self) -> float:
        return float(self.faults.replication_delay or 0)

    def is_young(self, key: str) -> bool:
        """True while an object (or credential) created at ``key`` is still replicating."""
        delay = self.replication_delay
        meta = self.meta.get(key)
        return bool(delay > 0 and meta is not None and self.clock() - meta.created < delay)

    def register(self, store: dict, obj: dict, owners: t.Iterable[str] = (), created: float | None = None) -> dict:
        self._seq += 1
        self.meta[obj["id"]] = Meta(self.clock() if created is None else created, self._seq, list(owners))
        store[obj["id"]] = obj
        return obj

    def note_credential(self, key_id: str, created: float | None = None) -> None:
        self._seq += 1
        self.meta[key_id] = Meta(self.clock() if created is None else created, self._seq)

    def seq(self, key: str) -> int:
        meta = self.meta.get(key)
        return meta.seq if meta else 0

    def owners(self, key: str) -> list[str]:
        meta = self.meta.get(key)
        return meta.owners if meta else []

    # ------------------------------------------------------------------ lookups

    def store_of(self, kind: str) -> dict:
        return {"application": self.applications, "servicePrincipal": self.service_principals, "user": self.users, "group": self.groups}[kind]

    def kind_of(self, object_id: str) -> str | None:
        for kind in USER_KINDS:
            if object_id in self.store_of(kind):
                return kind
        return None

    def directory_object(self, object_id: str) -> tuple[str, dict] | None:
        kind = self.kind_of(object_id)
        return (kind, self.store_of(kind)[object_id]) if kind else None

    def app_by_app_id(self, app_id: str) -> dict | None:
        app_id = (app_id or "").lower()
        return next((a for a in self.applications.values() if a["appId"] == app_id), None)

    def app_by_unique_name(self, unique_name: str) -> dict | None:
        unique_name = (unique_name or "").lower()
        return next((a for a in self.applications.values() if (a.get("uniqueName") or "").lower() == unique_name), None)

    def sp_by_app_id(self, app_id: str) -> dict | None:
        app_id = (app_id or "").lower()
        return next((s for s in self.service_principals.values() if s["appId"] == app_id), None)

    def user_by_upn(self, upn: str) -> dict | None:
        upn = (upn or "").lower()
        return next((u for u in self.users.values() if u["userPrincipalName"].lower() == upn), None)

    def deleted_user_by_upn(self, upn: str) -> dict | None:
        """A deleted user that had ``upn`` (its own name is now ``<id without hyphens><upn>``, see soft_delete)."""
        upn = (upn or "").lower()
        return next((d["object"] for d in self.deleted.values() if d["kind"] == "user" and d.get("userPrincipalName", "").lower() == upn), None)

    @property
    def graph_sp(self) -> dict:
        return self.service_principals[self.graph_sp_id]

    def graph_roles(self, sp_id: str) -> list[str]:
        """Values of the Graph application roles granted to a service principal (a grant still replicating is not in tokens yet)."""
        by_id = {r["id"]: r["value"] for r in self.graph_sp["appRoles"]}
        return sorted({by_id[a["appRoleId"]] for a in self.app_role_assignments.values()
                       if a["principalId"] == sp_id and a["resourceId"] == self.graph_sp_id and a["appRoleId"] in by_id and not self.is_young(a["id"])})

    def verified_domains(self) -> list[str]:
        return [d["id"] for d in self.domains if d["isVerified"]]

    def resolve_tenant(self, tenant: str) -> bool:
        """True when a login path's tenant segment names this tenant (its GUID or a verified domain)."""
        tenant = (tenant or "").lower()
        return tenant == self.tenant_id or tenant in (d.lower() for d in self.verified_domains())

    # ------------------------------------------------------------------ object factories

    def new_application(self, display_name: str, created: float | None = None, template_id: str | None = None,
                        created_by: str | None = None) -> dict:
        """An application with every default property a create response shows (contract 1.2)."""
        ts = self.clock() if created is None else created
        return {
            "id": self.new_id(),
            "deletedDateTime": None,
            "appId": self.new_id(),
            "applicationTemplateId": template_id,
            "disabledByMicrosoftStatus": None,
            "createdByAppId": created_by,
            "createdDateTime": iso(ts),
            "displayName": display_name,
            "description": None,
            "groupMembershipClaims": None,
            "identifierUris": [],
            "isDeviceOnlyAuthSupported": None,
            "isFallbackPublicClient": None,
            "nativeAuthenticationApisEnabled": None,
            "notes": None,
            "oauth2RequirePostResponse": False,
            "publisherDomain": INITIAL_DOMAIN,
            "serviceManagementReference": None,
            "signInAudience": DEFAULT_SIGN_IN_AUDIENCE,
            "tags": [],
            "tokenEncryptionKeyId": None,
            "uniqueName": None,
            "samlMetadataUrl": None,
            "defaultRedirectUri": None,
            "certification": None,
            "optionalClaims": None,
            "servicePrincipalLockConfiguration": None,
            "requestSignatureVerification": None,
            "addIns": [],
            "api": {"acceptMappedClaims": None, "knownClientApplications": [], "requestedAccessTokenVersion": default_token_version(DEFAULT_SIGN_IN_AUDIENCE),
                    "oauth2PermissionScopes": [], "preAuthorizedApplications": []},
            "appRoles": [],
            "info": {"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None, "supportUrl": None, "termsOfServiceUrl": None},
            "keyCredentials": [],
            "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
            "passwordCredentials": [],
            "publicClient": {"redirectUris": []},
            "requiredResourceAccess": [],
            "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None},
            "web": {"homePageUrl": None, "logoutUrl": None, "redirectUris": [], "redirectUriSettings": [],
                    "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False}},
            "spa": {"redirectUris": []},
        }

    def new_service_principal(self, app: dict, created_by: str | None = None, created: float | None = None) -> dict:
        """A service principal for an app registration, its properties copied from the app as Entra does."""
        sp = {
            "id": self.new_id(),
            "deletedDateTime": None,
            "accountEnabled": True,
            "createdDateTime": iso(self.clock() if created is None else created),
            "alternativeNames": [],
            "appDisplayName": app["displayName"],
            "appDescription": app.get("description"),
            "appId": app["appId"],
            "applicationTemplateId": app.get("applicationTemplateId"),
            "appOwnerOrganizationId": self.tenant_id,
            "appRoleAssignmentRequired": False,
            "createdByAppId": created_by,
            "description": None,
            "disabledByMicrosoftStatus": None,
            "displayName": app["displayName"],
            "homepage": None,
            "loginUrl": None,
            "logoutUrl": None,
            "notes": None,
            "notificationEmailAddresses": [],
            "preferredSingleSignOnMode": None,
            "preferredTokenSigningKeyThumbprint": None,
            "replyUrls": [],
            "servicePrincipalNames": [],
            "servicePrincipalType": "Application",
            "signInAudience": app["signInAudience"],
            "tags": list(app.get("tags") or []),
            "tokenEncryptionKeyId": None,
            "samlSingleSignOnSettings": None,
            "addIns": [],
            "appRoles": [],
            "info": None,
            "keyCredentials": [],
            "oauth2PermissionScopes": [],
            "passwordCredentials": [],
            "resourceSpecificApplicationPermissions": [],
            "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None},
        }
        self.sync_from_app(sp, app)
        return sp

    @staticmethod
    def sync_from_app(sp: dict, app: dict, old_display_name: str | None = None) -> None:
        """The properties Entra keeps in step between an app registration and its service principal."""
        sp["appDisplayName"] = app["displayName"]
        if old_display_name is not None and sp.get("displayName") == old_display_name:
            sp["displayName"] = app["displayName"]
        sp["appDescription"] = app.get("description")
        sp["appRoles"] = copy.deepcopy(app.get("appRoles") or [])
        sp["oauth2PermissionScopes"] = copy.deepcopy((app.get("api") or {}).get("oauth2PermissionScopes") or [])
        web = app.get("web") or {}
        sp["replyUrls"] = list(web.get("redirectUris") or []) + list((app.get("spa") or {}).get("redirectUris") or []) + \
            list((app.get("publicClient") or {}).get("redirectUris") or [])
        sp["homepage"] = web.get("homePageUrl")
        sp["logoutUrl"] = web.get("logoutUrl")
        sp["signInAudience"] = app.get("signInAudience")
        sp["info"] = copy.deepcopy(app.get("info"))
        # real Graph (recorded) lists the app's identifier URIs first, then its appId
        sp["servicePrincipalNames"] = [u for u in app.get("identifierUris") or [] if u != app["appId"]] + [app["appId"]]

    def new_user(self, upn: str, display_name: str, mail_nickname: str, *, account_enabled: bool = True, given_name: str | None = None,
                 surname: str | None = None, job_title: str | None = None, created: float | None = None) -> dict:
        ts = self.clock() if created is None else created
        return {
            "id": self.new_id(),
            "deletedDateTime": None,
            "accountEnabled": account_enabled,
            "ageGroup": None,
            "businessPhones": [],
            "city": None,
            "companyName": None,
            "country": None,
            "createdDateTime": iso(ts),
            "creationType": None,
            "department": None,
            "displayName": display_name,
            "employeeId": None,
            "givenName": given_name,
            "identities": [{"signInType": "userPrincipalName", "issuer": INITIAL_DOMAIN, "issuerAssignedId": upn}],
            "jobTitle": job_title,
            "lastPasswordChangeDateTime": iso(ts),
            "mail": None,
            "mailNickname": mail_nickname,
            "mobilePhone": None,
            "officeLocation": None,
            "onPremisesImmutableId": None,
            "onPremisesSyncEnabled": None,
            "otherMails": [],
            "passwordPolicies": None,
            "passwordProfile": None,
            "postalCode": None,
            "preferredLanguage": None,
            "proxyAddresses": [],
            "securityIdentifier": self._sid(),
            "showInAddressList": None,
            "state": None,
            "streetAddress": None,
            "surname": surname,
            "usageLocation": None,
            "userPrincipalName": upn,
            "userType": "Member",
        }

    def new_group(self, display_name: str, mail_nickname: str, *, description: str | None = None, security_enabled: bool = True,
                  mail_enabled: bool = False, group_types: list | None = None, created: float | None = None) -> dict:
        ts = self.clock() if created is None else created
        return {
            "id": self.new_id(),
            "deletedDateTime": None,
            "classification": None,
            "createdDateTime": iso(ts),
            "creationOptions": [],
            "description": description,
            "displayName": display_name,
            "expirationDateTime": None,
            "groupTypes": list(group_types or []),
            "isAssignableToRole": None,
            "mail": None,
            "mailEnabled": mail_enabled,
            "mailNickname": mail_nickname,
            "membershipRule": None,
            "membershipRuleProcessingState": None,
            "onPremisesDomainName": None,
            "onPremisesLastSyncDateTime": None,
            "onPremisesNetBiosName": None,
            "onPremisesSamAccountName": None,
            "onPremisesSecurityIdentifier": None,
            "onPremisesSyncEnabled": None,
            "onPremisesProvisioningErrors": [],
            "preferredDataLocation": None,
            "preferredLanguage": None,
            "proxyAddresses": [],
            "renewedDateTime": iso(ts),
            "resourceBehaviorOptions": [],
            "resourceProvisioningOptions": [],
            "securityEnabled": security_enabled,
            "securityIdentifier": self._sid(),
            "theme": None,
            "uniqueName": None,
            "visibility": None,
        }

    def new_password_credential(self, display_name: str | None, start: float, end: float, created: float | None = None) -> tuple[dict, str]:
        """(passwordCredential as GET shows it, secret value); the secret is kept for the token endpoint."""
        secret = self.new_secret()
        key_id = self.new_id()
        credential = {"customKeyIdentifier": None, "displayName": display_name, "endDateTime": iso(end), "hint": secret[:3],
                      "keyId": key_id, "secretText": None, "startDateTime": iso_stamp(start) if start % 1 else iso(start)}
        self.secrets[key_id] = secret
        self.note_credential(key_id, created)
        return credential, secret

    def new_app_role_assignment(self, principal_kind: str, principal: dict, resource: dict, app_role_id: str, created: float | None = None) -> dict:
        ts = self.clock() if created is None else created
        assignment = {
            "id": self.new_opaque_id(principal["id"]),
            "deletedDateTime": None,
            "appRoleId": app_role_id,
            "createdDateTime": iso(ts),
            "principalDisplayName": principal.get("displayName"),
            "principalId": principal["id"],
            "principalType": {"user": "User", "group": "Group", "servicePrincipal": "ServicePrincipal"}[principal_kind],
            "resourceDisplayName": resource.get("displayName"),
            "resourceId": resource["id"],
        }
        return self.register(self.app_role_assignments, assignment, created=ts)

    def _sid(self) -> str:
        parts = [str(self.rng.getrandbits(32)) for _index in range(4)]
        return "S-1-12-1-" + "-".join(parts)

    # ------------------------------------------------------------------ deletion

    def soft_delete(self, kind: str, object_id: str) -> None:
        """Move an object to deleted items (30-day restorable in Entra) and drop what hangs on it."""
        store = self.store_of(kind)
        obj = store.pop(object_id)
        obj["deletedDateTime"] = self.now_iso()
        self.deleted[object_id] = {"kind": kind, "object": obj}
        if kind == "user":
            # As Entra ID does: a deleted user is renamed to <object id without hyphens><UPN>, which frees its name for a new
            # user at once (restoring it then needs the name to be free again).
            self.deleted[object_id]["userPrincipalName"] = obj["userPrincipalName"]
            obj["userPrincipalName"] = object_id.replace("-", "") + obj["userPrincipalName"]
        for assignment_id in [a["id"] for a in self.app_role_assignments.values() if object_id in (a["principalId"], a["resourceId"])]:
            del self.app_role_assignments[assignment_id]
        if kind == "servicePrincipal":
            for grant_id in [g["id"] for g in self.oauth2_permission_grants.values() if object_id in (g["clientId"], g["resourceId"])]:
                del self.oauth2_permission_grants[grant_id]
        if kind == "user":
            for grant_id in [g["id"] for g in self.oauth2_permission_grants.values() if g.get("principalId") == object_id]:
                del self.oauth2_permission_grants[grant_id]
        for members in self.group_members.values():
            if object_id in members:
                members.remove(object_id)
        if kind == "application":
            sp = self.sp_by_app_id(obj["appId"])
            if sp is not None:
                self.soft_delete("servicePrincipal", sp["id"])

    def purge(self, object_id: str) -> bool:
        item = self.deleted.pop(object_id, None)
        if item is None:
            return False
        if item["kind"] == "application":
            for credential in item["object"].get("passwordCredentials") or []:
                self.secrets.pop(credential["keyId"], None)
        self.group_members.pop(object_id, None)
        return True

    # ------------------------------------------------------------------ seed

    def reset(self) -> None:
        """Back to the seed: same ids and secrets for the same seed."""
        with self.lock:
            self.rng = random.Random(self.seed)
            self._request_rng = random.Random("requests-%d" % self.seed)
            self._seq = 0
            self.applications: dict[str, dict] = {}
            self.service_principals: dict[str, dict] = {}
            self.users: dict[str, dict] = {}
            self.groups: dict[str, dict] = {}
            self.group_members: dict[str, list[str]] = {}
            self.app_role_assignments: dict[str, dict] = {}
            self.oauth2_permission_grants: dict[str, dict] = {}
            self.deleted: dict[str, dict] = {}
            self.meta: dict[str, Meta] = {}
            self.secrets: dict[str, str] = {}
            self.user_passwords: dict[str, str] = {}
            self.key_material: dict[str, bytes] = {}
            # tenant app management policy (contract section 3): max client secret lifetime in days, None = no limit
            self.password_max_lifetime_days: float | None = None
            self._seed()

    def _seed(self) -> None:
        born = self.clock() - SEED_AGE
        self.tenant_id = self.new_id()
        self.domains = [self._domain(INITIAL_DOMAIN, verified=True, initial=True, default=False),
                        self._domain(CUSTOM_DOMAIN, verified=True, initial=False, default=True),
                        self._domain(UNVERIFIED_DOMAIN, verified=False, initial=False, default=False)]
        self.organization = self._organization(born)
        self.application_templates = self._templates()

        graph_sp = self._graph_service_principal(born)
        self.graph_sp_id = graph_sp["id"]
        self.register(self.service_principals, graph_sp, created=born)

        self.automation_app, self.automation_sp, self.automation_secret = self._seed_client("SmartTrace Automation", AUTOMATION_ROLES, born)
        cert_credential = self._certificate_credential(born)
        self.automation_app["keyCredentials"].append(cert_credential)
        self.automation_sp["keyCredentials"].append(copy.deepcopy(cert_credential))
        self.limited_app, self.limited_sp, self.limited_secret = self._seed_client("SmartTrace Automation (read-only)", LIMITED_ROLES, born)
        self.managed_identity_header = "".join(self.rng.choice(string.ascii_letters + string.digits) for _index in range(32))

        users = []
        for display_name, given, surname, nickname, job in SEED_USERS:
            upn = "%s@%s" % (nickname, INITIAL_DOMAIN)
            user = self.new_user(upn, display_name, nickname, given_name=given, surname=surname, job_title=job, created=born)
            user["mail"] = upn
            user["usageLocation"] = "US"
            users.append(self.register(self.users, user, created=born))
            self.user_passwords[user["id"]] = self.new_secret()
        smarttrace_users = self.register(self.groups, self.new_group("SmartTrace Users", "smarttraceusers",
                                                                     description="People who sign in to SmartTrace", created=born), created=born)
        contractors = self.register(self.groups, self.new_group("Contractors", "contractors", description="External contractors", created=born),
                                    created=born)
        self.group_members[smarttrace_users["id"]] = [u["id"] for u in users[:3]]
        self.group_members[contractors["id"]] = [users[3]["id"]]

    def _seed_client(self, name: str, roles: tuple[str, ...], born: float) -> tuple[dict, dict, str]:
        app = self.new_application(name, created=born)
        app["signInAudience"] = "AzureADMyOrg"   # the automation identity is single-tenant, as an administrator registers it
        app["api"]["requestedAccessTokenVersion"] = None
        app["requiredResourceAccess"] = [{"resourceAppId": GRAPH_APP_ID, "resourceAccess": [
            {"id": role_id, "type": "Role"} for value, role_id, _title in GRAPH_ROLES if value in roles]}]
        credential, secret = self.new_password_credential("automation", born, born + TWO_YEARS.total_seconds(), created=born)
        app["passwordCredentials"].append(credential)
        self.register(self.applications, app, created=born)
        sp = self.register(self.service_principals, self.new_service_principal(app, created=born), created=born)
        role_ids = {value: role_id for value, role_id, _title in GRAPH_ROLES}
        for value in roles:
            self.new_app_role_assignment("servicePrincipal", sp, self.graph_sp, role_ids[value], created=born)
        return app, sp, secret

    def _domain(self, name: str, verified: bool, initial: bool, default: bool) -> dict:
        return {"id": name, "authenticationType": "Managed", "availabilityStatus": None, "isAdminManaged": True, "isDefault": default,
                "isInitial": initial, "isRoot": True, "isVerified": verified, "manufacturer": None, "model": None,
                "passwordNotificationWindowInDays": 14, "passwordValidityPeriodInDays": 2147483647, "state": None,
                "supportedServices": ["Email", "OfficeCommunicationsOnline"] if verified else []}

    def _organization(self, born: float) -> dict:
        verified = [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": d["isDefault"], "isInitial": d["isInitial"],
                     "name": d["id"], "type": "Managed"} for d in self.domains if d["isVerified"]]
        return {"id": self.tenant_id, "deletedDateTime": None, "businessPhones": ["+1 425 555 0109"], "city": "Redmond", "country": None,
                "countryLetterCode": "US", "createdDateTime": iso(born), "defaultUsageLocation": None, "displayName": ORGANIZATION_NAME,
                "marketingNotificationEmails": [], "onPremisesLastSyncDateTime": None, "onPremisesSyncEnabled": None, "partnerTenantType": None,
                "postalCode": "98052", "preferredLanguage": "en", "securityComplianceNotificationMails": [],
                "securityComplianceNotificationPhones": [], "state": "WA", "street": "One Microsoft Way", "technicalNotificationMails": [],
                "tenantType": "AAD", "assignedPlans": [], "provisionedPlans": [], "privacyProfile": None, "verifiedDomains": verified}

    def _graph_service_principal(self, born: float) -> dict:
        return {
            "id": self.new_id(), "deletedDateTime": None, "accountEnabled": True, "createdDateTime": iso(born), "alternativeNames": [],
            "appDisplayName": "Microsoft Graph",
            "appDescription": None, "appId": GRAPH_APP_ID, "applicationTemplateId": None, "appOwnerOrganizationId": MICROSOFT_TENANT_ID,
            "appRoleAssignmentRequired": False, "createdByAppId": None, "description": None, "disabledByMicrosoftStatus": None,
            "displayName": "Microsoft Graph", "homepage": None, "loginUrl": None, "logoutUrl": None, "notes": None,
            "notificationEmailAddresses": [], "preferredSingleSignOnMode": None, "preferredTokenSigningKeyThumbprint": None, "replyUrls": [],
            "servicePrincipalNames": ["https://graph.microsoft.com", GRAPH_APP_ID, "https://graph.microsoft.com/", "https://canary.graph.microsoft.com"],
            "servicePrincipalType": "Application", "signInAudience": "AzureADMultipleOrgs", "tags": [], "tokenEncryptionKeyId": None,
            "samlSingleSignOnSettings": None, "addIns": [], "info": None, "keyCredentials": [], "passwordCredentials": [],
            "resourceSpecificApplicationPermissions": [],
            "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None},
            "appRoles": [{"allowedMemberTypes": ["Application"], "description": "Allows the app to %s, without a signed-in user." % title.lower(),
                          "displayName": title, "id": role_id, "isEnabled": True, "origin": "Application", "value": value}
                         for value, role_id, title in GRAPH_ROLES],
            "oauth2PermissionScopes": [{"adminConsentDescription": description, "adminConsentDisplayName": title, "id": scope_id, "isEnabled": True,
                                        "type": "User", "userConsentDescription": description, "userConsentDisplayName": title, "value": value}
                                       for value, scope_id, title, description in GRAPH_SCOPES],
        }

    @staticmethod
    def _templates() -> list[dict]:
        return [
            {"id": SMARTTRACE_TEMPLATE_ID, "displayName": "SmartTrace", "homePageUrl": "https://www.smarttrace.example/",
             "supportedSingleSignOnModes": ["oidc"], "supportedProvisioningTypes": [],
             "logoUrl": "https://az495088.vo.msecnd.net/app-logo/smarttrace_215.png", "categories": ["businessMgmt", "productivity"],
             "publisher": "SmartTrace Ltd.", "description": "SmartTrace traceability platform. Sign users in with OpenID Connect."},
            {"id": CUSTOM_TEMPLATE_ID, "displayName": "Custom", "homePageUrl": "http://www.microsoft.com/",
             "supportedSingleSignOnModes": ["password", "saml", "notSupported"], "supportedProvisioningTypes": ["sync"],
             "logoUrl": None, "categories": [], "publisher": "Microsoft Corporation",
             "description": "Integrate any application that you don't find in the gallery."},
        ]

    # ------------------------------------------------------------------ client certificate

    def _make_client_certificate(self) -> None:
        """RSA key + self-signed certificate for the automation app, written to the state folder (0600)."""
        not_before = datetime.datetime.fromtimestamp(self.clock() - SEED_AGE, datetime.timezone.utc).replace(hour=0, minute=0, second=0,
                                                                                                             microsecond=0)
        material = _client_certificate(self.seed, not_before)
        self.client_cert_der = material.cert_der
        self.client_cert_not_before = not_before
        self.client_certificate_password = material.password
        self.client_cert_thumbprint = hashlib.sha1(material.cert_der).hexdigest().upper()  # noqa: S324 - a certificate thumbprint
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.client_cert_path = self.state_dir / "client_cert.pem"
        self.client_key_path = self.state_dir / "client_key.pem"
        self.client_pfx_path = self.state_dir / "client_cert.pfx"
        write_private_file(self.client_cert_path, material.cert_pem + material.key_pem)
        write_private_file(self.client_key_path, material.key_pem)
        write_private_file(self.client_pfx_path, material.pfx)

    def _certificate_credential(self, born: float) -> dict:
        key_id = self.new_id()
        self.key_material[key_id] = self.client_cert_der
        self.note_credential(key_id, born)
        start = to_ts(self.client_cert_not_before)
        return {"customKeyIdentifier": thumbprint_hex(self.client_cert_der),
                "displayName": "CN=SmartTrace Automation", "endDateTime": iso(start + 730 * 86400), "key": None, "keyId": key_id,
                "startDateTime": iso(start), "type": "AsymmetricX509Cert", "usage": "Verify"}

    def certificate_for(self, app: dict, x5t: str | None, x5t256: str | None) -> tuple[dict, bytes] | None:
        """The (keyCredential, DER) of an app whose thumbprint matches a JWT header's x5t or x5t#S256.

        Thumbprints are compared as bytes: msal sends them base64url with ``=`` padding, other clients without.
        """
        wanted_sha1, wanted_sha256 = _thumbprint_bytes(x5t), _thumbprint_bytes(x5t256)
        for credential in app.get("keyCredentials") or []:
            der = self.key_material.get(credential["keyId"])
            if der is None or credential.get("usage") != "Verify":
                continue
            sha1, sha256 = hashlib.sha1(der).digest(), hashlib.sha256(der).digest()  # noqa: S324 - x5t is SHA-1 by definition
            if (wanted_sha1 and hmac.compare_digest(wanted_sha1, sha1)) or (wanted_sha256 and hmac.compare_digest(wanted_sha256, sha256)):
                return credential, der
        return None

    # ------------------------------------------------------------------ what the core calls

    def endpoint_fields(self) -> dict:
        """Connection settings for endpoint.json (the seeded automation identities' credentials included)."""
        with self.lock:
            return {
                "tenant_id": self.tenant_id,
                "tenant_domain": INITIAL_DOMAIN,
                "client_id": self.automation_app["appId"],
                "client_secret": self.automation_secret,
                "client_certificate_path": str(self.client_cert_path),
                "client_key_path": str(self.client_key_path),
                "client_certificate_thumbprint": self.client_cert_thumbprint,
                "client_certificate_pfx_path": str(self.client_pfx_path),
                "client_certificate_password": self.client_certificate_password,
                "limited_client_id": self.limited_app["appId"],
                "limited_client_secret": self.limited_secret,
                "managed_identity_path": "/msi/token",
                "managed_identity_header": self.managed_identity_header,
                "graph_service_principal_id": self.graph_sp_id,
                "domains": self.verified_domains(),
            }

    def snapshot(self) -> dict:
        """The whole directory as JSON (for GET /_sandbox/state): never a secret value or a password."""
        with self.lock:
            def ordered(store: dict) -> list[dict]:
                return [self._public(store[k]) for k in sorted(store, key=self.seq)]

            return {
                "tenant_id": self.tenant_id,
                "organization": copy.deepcopy(self.organization),
                "domains": copy.deepcopy(self.domains),
                "applications": [dict(a, owners=list(self.owners(a["id"]))) for a in ordered(self.applications)],
                "servicePrincipals": [dict(s, owners=list(self.owners(s["id"]))) for s in ordered(self.service_principals)],
                "users": ordered(self.users),
                "groups": [dict(g, members=list(self.group_members.get(g["id"], []))) for g in ordered(self.groups)],
                "appRoleAssignments": ordered(self.app_role_assignments),
                "oauth2PermissionGrants": ordered(self.oauth2_permission_grants),
                "deletedItems": [dict(self._public(d["object"]), **{"@odata.type": "#microsoft.graph." + d["kind"]})
                                 for _id, d in sorted(self.deleted.items(), key=lambda item: self.seq(item[0]))],
                "applicationTemplates": copy.deepcopy(self.application_templates),
            }

    @staticmethod
    def _public(obj: dict) -> dict:
        out = copy.deepcopy(obj)
        for credential in out.get("passwordCredentials") or []:
            credential["secretText"] = None
        if "passwordProfile" in out:
            out["passwordProfile"] = None
        return out

    def admin(self, op: str, body: t.Any) -> Response:
        """Test control ``POST /_sandbox/directory/<op>``: set-credential-end, add-user, delete-user, purge-deleted, settle, set-graph-roles,
        set-app-management-policy."""
        handlers = {
            "set-credential-end": self._admin_set_credential_end,
            "add-user": self._admin_add_user,
            "delete-user": self._admin_delete_user,
            "purge-deleted": self._admin_purge_deleted,
            "settle": self._admin_settle,
            "set-graph-roles": self._admin_set_graph_roles,
            "set-app-management-policy": self._admin_set_app_management_policy,
        }
        handler = handlers.get(op)
        if handler is None:
            return admin_error(404, "unknown directory operation %r; known: %s" % (op, ", ".join(sorted(handlers))))
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return admin_error(400, "send a JSON object")
        with self.lock:
            return handler(body)

    def _admin_app(self, body: dict) -> dict | None:
        key = str(body.get("app_id") or body.get("client_id") or "").lower()
        return self.applications.get(key) or self.app_by_app_id(key)

    def _admin_set_credential_end(self, body: dict) -> Response:
        app = self._admin_app(body)
        if app is None:
            return admin_error(404, "no application with id or appId %r" % body.get("app_id"))
        end = parse_date_time(str(body.get("end_date_time") or ""))
        if end is None:
            return admin_error(400, "end_date_time must be an ISO 8601 date-time with a zone, e.g. 2020-01-01T00:00:00Z")
        key_id = str(body.get("key_id") or "").lower()
        for credential in app["passwordCredentials"] + app["keyCredentials"]:
            if credential["keyId"] == key_id:
                credential["endDateTime"] = iso(end.timestamp())
                return Response(200, {"keyId": key_id, "endDateTime": credential["endDateTime"]})
        return admin_error(404, "application %s has no credential with keyId %r" % (app["appId"], key_id))

    def _admin_add_user(self, body: dict) -> Response:
        upn = str(body.get("userPrincipalName") or "")
        if "@" not in upn:
            return admin_error(400, "userPrincipalName (name@domain) is required")
        if self.user_by_upn(upn):
            return admin_error(400, "userPrincipalName %s is taken" % upn)
        nickname = str(body.get("mailNickname") or upn.split("@", maxsplit=1)[0])
        user = self.new_user(upn, str(body.get("displayName") or nickname), nickname, account_enabled=bool(body.get("accountEnabled", True)))
        self.register(self.users, user, created=self.clock() - SEED_AGE if body.get("settled", True) else None)
        self.user_passwords[user["id"]] = str(body.get("password") or self.new_secret())
        return Response(201, {"id": user["id"], "userPrincipalName": upn})

    def _admin_delete_user(self, body: dict) -> Response:
        key = str(body.get("id") or body.get("userPrincipalName") or "")
        user = self.users.get(key.lower()) or self.user_by_upn(key)
        if user is None:
            return admin_error(404, "no user %r" % key)
        self.soft_delete("user", user["id"])
        if body.get("purge"):
            self.purge(user["id"])
        return Response(200, {"id": user["id"], "purged": bool(body.get("purge"))})

    def _admin_purge_deleted(self, body: dict) -> Response:
        ids = [str(body["id"]).lower()] if body.get("id") else list(self.deleted)
        purged = [i for i in ids if self.purge(i)]
        if body.get("id") and not purged:
            return admin_error(404, "no deleted item %r" % body["id"])
        return Response(200, {"purged": purged})

    def _admin_settle(self, body: dict) -> Response:
        """End every replication lag now (objects and credentials become visible everywhere)."""
        settled_at = self.clock() - max(self.replication_delay, 0) - 1
        count = 0
        for meta in self.meta.values():
            if meta.created > settled_at:
                meta.created = settled_at
                count += 1
        return Response(200, {"settled": count})

    def _admin_set_app_management_policy(self, body: dict) -> Response:
        """The tenant default app management policy: ``password_max_lifetime_days`` (a number, or null for no limit)."""
        days = body.get("password_max_lifetime_days")
        if days is not None and (isinstance(days, bool) or not isinstance(days, (int, float)) or days <= 0):
            return admin_error(400, "password_max_lifetime_days must be a positive number of days, or null for no limit")
        self.password_max_lifetime_days = days
        return Response(200, {"password_max_lifetime_days": days})

    def _admin_set_graph_roles(self, body: dict) -> Response:
        app = self._admin_app(body)
        sp = self.sp_by_app_id(app["appId"]) if app else None
        if sp is None:
            return admin_error(404, "no application (with a service principal) %r" % (body.get("client_id") or body.get("app_id")))
        roles = body.get("roles")
        by_value = {r["value"]: r["id"] for r in self.graph_sp["appRoles"]}
        if not isinstance(roles, list) or any(r not in by_value for r in roles):
            return admin_error(400, "roles must be a list of Graph application permissions: %s" % ", ".join(sorted(by_value)))
        for assignment_id in [a["id"] for a in self.app_role_assignments.values() if a["principalId"] == sp["id"] and a["resourceId"] == self.graph_sp_id]:
            del self.app_role_assignments[assignment_id]
        for value in roles:
            self.new_app_role_assignment("servicePrincipal", sp, self.graph_sp, by_value[value], created=self.clock() - SEED_AGE)
        return Response(200, {"appId": app["appId"], "roles": self.graph_roles(sp["id"])})

    def redeem_client_secret(self, tenant: str, client_id: str, secret: str) -> tuple[bool, str | None]:
        """Would the token endpoint accept this client secret? (ok, None) or (False, the AADSTS error text)."""
        with self.lock:
            error = check_client_secret(self, tenant, client_id, secret)
        return (True, None) if error is None else (False, error.description)
