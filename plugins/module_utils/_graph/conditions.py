# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Graph error means, decided on its code, and in one table (``message_kind``) where Graph gives only words.

The replication predicates (``REPLICATION_PREDICATES``) say "not replicated yet, try again" for ``GraphClient.request``'s
``retry_on``. Split out of ``_graph_client`` (which re-exports every name); subpackage: graph.
"""


# ---------------------------------------------------------------------- what Graph says only in words
# Graph's error ``code`` (and ``details[].code``) decide everything they can. A few conditions come with a code shared by
# many others (``Request_BadRequest``, ``Authorization_RequestDenied``) and only an English message tells them apart
# (docs/graph-facts.md, "Errors told only in words"): they are recognised here, and only here, by ``message_kind``.
NOT_A_VALID_REFERENCE_UPDATE = "not_a_valid_reference_update"
NO_BACKING_APPLICATION = "no_backing_application"
BACKING_APPLICATION_NOT_VISIBLE = "backing_application_not_visible"
APP_ROLE_NOT_DISABLED = "app_role_not_disabled"
ASSIGNMENT_EXISTS = "assignment_exists"
APP_ROLE_NOT_ON_RESOURCE = "app_role_not_on_resource"
UPN_CONFLICT = "upn_conflict"
UPN_DOMAIN_NOT_VERIFIED = "upn_domain_not_verified"
UPN_INVALID = "upn_invalid"
PASSWORD_TOO_WEAK = "password_too_weak"
MAIL_NICKNAME_INVALID = "mail_nickname_invalid"
# (kind, status, words in the message, lower case): the first match wins.
_MESSAGE_KINDS = (
    (NOT_A_VALID_REFERENCE_UPDATE, 400, "not a valid reference update"),
    (NO_BACKING_APPLICATION, 400, "does not reference a valid application object"),
    (BACKING_APPLICATION_NOT_VISIBLE, 403, "backing application"),
    (APP_ROLE_NOT_DISABLED, 400, "disabled first"),
    (ASSIGNMENT_EXISTS, 400, "already exists on the object"),
    (APP_ROLE_NOT_ON_RESOURCE, 400, "not found on application"),
    (UPN_CONFLICT, 400, "same value for property userprincipalname"),
    (UPN_DOMAIN_NOT_VERIFIED, 400, "domain portion of the userprincipalname"),
    (UPN_INVALID, 400, "property userprincipalname is invalid"),
    (PASSWORD_TOO_WEAK, 400, "password complexity"),
    (MAIL_NICKNAME_INVALID, 400, "mailnickname"),
)


def message_kind(error):
    """The condition a Graph error states only in its message (one of the constants above), or None.

    For conditions Graph gives a code of their own, compare ``error.code`` / ``error.detail_codes`` instead.
    """
    message = (getattr(error, "message", None) or "").lower()
    for kind, status, words in _MESSAGE_KINDS:
        if error.status == status and words in message:
            return kind
    return None


# ---------------------------------------------------------------------- replication predicates (docs/graph-facts.md, "Replication")
def not_found(error):
    """404: the object was just created and is not visible yet (GET/PATCH after create, assignment POST)."""
    return error.status == 404


def no_backing_application(error):
    """400 NoBackingApplicationObject (a detail code; its text when the details are missing): a service principal created
    right after its application."""
    return error.status == 400 and ("NoBackingApplicationObject" in error.detail_codes or message_kind(error) == NO_BACKING_APPLICATION)


def not_a_valid_reference_update(error):
    """400 "Not a valid reference update." (no code of its own): an assignment naming a just-created principal or resource."""
    return message_kind(error) == NOT_A_VALID_REFERENCE_UPDATE


def owned_by_backing_app_403(error):
    """403 with Application.ReadWrite.OwnedBy (no code of its own): the backing application of a new service principal is not
    visible yet."""
    return message_kind(error) == BACKING_APPLICATION_NOT_VISIBLE


def conflict_409(error):
    """409 on PATCH of a just-created application (e.g. Error_MsaAppDoesNotExist); not the "already exists" conflict."""
    return error.status == 409 and error.code != "Request_MultipleObjectsWithSameKeyValue"


REPLICATION_PREDICATES = {
    "not_found": not_found,
    "no_backing_application": no_backing_application,
    "not_a_valid_reference_update": not_a_valid_reference_update,
    "owned_by_backing_app_403": owned_by_backing_app_403,
    "conflict_409": conflict_409,
}
