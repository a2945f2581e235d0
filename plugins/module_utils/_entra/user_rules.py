# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The input rules Entra ID applies to a user: user principal name, password, mail nickname, and one user entry as a whole.

Written once, for ``entra_user``, the role's plan (test users, owners), ``entra_app``'s owners and the filter
``smarttrace.sso.upn_problem``. It imports nothing but ``re``: the filter loads it in every Ansible worker that evaluates
a template using one of the collection's filters, so it must not bring the Graph client along
(tests/unit/plugins/filter/test_plugins_load_light.py).
"""

import re

UPN_LOCAL_RE = re.compile(r"^[A-Za-z0-9'.\-_!#^~$`]{1,64}$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}$")
NICKNAME_FORBIDDEN = set('@()\\[]";:<>, ')
NICKNAME_RULE = "1 to 64 ASCII characters, none of @ ( ) \\ [ ] \" ; : < > , or space"
PASSWORD_RULE = ("8 to 256 characters, at least three of lower-case letters, upper-case letters, digits and symbols, "
                 "no characters outside ASCII")
UPN_RULE = "name@domain, the name of at most 64 of A-Z a-z 0-9 ' . - _ ! # ^ ~ $ ` (not starting or ending with a dot, no two dots in a row)"


def upn_problem(upn):
    """Why ``upn`` cannot be a userPrincipalName, or None."""
    if upn.count("@") != 1:
        return "it must contain exactly one @ (%s)" % UPN_RULE
    local, domain = upn.split("@")
    if not UPN_LOCAL_RE.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return "the part before @ has characters or dots Entra ID does not accept (%s)" % UPN_RULE
    if not DOMAIN_RE.match(domain):
        return "the part after @ is not a domain name"
    return None


def password_problem(password):
    """Why Entra ID would refuse ``password`` (the text never contains the password), or None."""
    problems = []
    if not 8 <= len(password) <= 256:
        problems.append("it has %d characters" % len(password))
    if any(ord(char) < 32 or ord(char) > 126 for char in password):
        problems.append("it has characters outside printable ASCII")
    kinds = sum(bool(re.search(pattern, password)) for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if kinds < 3:
        problems.append("it has only %d of the 4 kinds of characters" % kinds)
    if problems:
        return "does not meet the complexity rule of Entra ID (%s): %s" % (PASSWORD_RULE, "; ".join(problems))
    return None


def nickname_problem(nickname):
    if not 1 <= len(nickname) <= 64 or any(char in NICKNAME_FORBIDDEN or ord(char) > 127 for char in nickname):
        return "must have " + NICKNAME_RULE
    return None


def validate_user(entry):
    """Every problem of one user entry (option values as the module got them), as ``option: problem`` texts."""
    problems = []
    upn_issue = upn_problem(entry["user_principal_name"])
    if upn_issue:
        problems.append("user_principal_name %r: %s" % (entry["user_principal_name"], upn_issue))
    if entry.get("password") is not None:
        issue = password_problem(entry["password"])
        if issue:
            problems.append("password " + issue)
    if entry.get("update_password") == "always" and entry.get("password") is None:
        problems.append("update_password set to always needs password")
    nickname_issue = None if entry.get("mail_nickname") is None else nickname_problem(entry["mail_nickname"])
    if nickname_issue:
        problems.append("mail_nickname %r %s" % (entry["mail_nickname"], nickname_issue))
    if entry.get("display_name") is not None and (not entry["display_name"].strip() or len(entry["display_name"]) > 256):
        problems.append("display_name must have 1 to 256 characters, not only spaces")
    if entry.get("created_by") is not None and not entry["created_by"].strip():
        problems.append("created_by must not be empty: give the mark of the creator, or omit created_by")
    if entry.get("usage_location") is not None and not re.match(r"^[A-Za-z]{2}$", entry["usage_location"]):
        problems.append("usage_location %r must be a two-letter country code (ISO 3166-1 alpha-2) such as US or DE" % entry["usage_location"])
    return problems
