# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``entra_user``'s properties, one row each (``_property_table``): the options of one user.

From ``USER_PROPERTIES`` come the options of one user (``USER_OPTIONS``, the argument spec of a user and of each entry
of ``users``), the ``$select`` (``USER_SELECT``), the properties a user is created or updated with (``desired``), the
options a change names (``changed_options``) and the user as the module returns it (``user_view``). Rows with a handler
are the key (``user_principal_name``), the write-only password (sent on create, or always) and the ``created_by`` mark
(``employeeType``, written on create only); ``_entra_users`` handles them.
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._common.property_table import CASE_INSENSITIVE, Prop, argument_spec, select, view

USER = "user"
#: the Graph property holding the created_by mark
MARK_PROPERTY = "employeeType"


def _upper(value):
    return value.upper()


#: entra_user: option, Graph path, type, comparison, check mode prediction, handler; in the order of the view
USER_PROPERTIES = (
    Prop("user_principal_name", "userPrincipalName", USER, compare=CASE_INSENSITIVE, handler="key", spec=dict(aliases=["upn"])),
    Prop(None, "id", USER, key="id", predictable=False),
    Prop("display_name", "displayName", USER),
    Prop("mail_nickname", "mailNickname", USER),
    Prop("password", None, USER, key=None, handler="password", spec=dict(no_log=True)),  # passwordProfile: write-only
    Prop("update_password", key=None, spec=dict(choices=["always", "on_create"], no_log=False)),
    Prop("force_change_password_next_sign_in", None, USER, type="bool", key=None, handler="password", spec=dict(no_log=False)),
    Prop("given_name", "givenName", USER),
    Prop("surname", "surname", USER),
    Prop("account_enabled", "accountEnabled", USER, type="bool"),
    Prop("usage_location", "usageLocation", USER, to_graph=_upper),
    Prop("state", key=None, spec=dict(choices=["present", "absent"])),
    Prop("created_by", MARK_PROPERTY, USER, key="employee_type", handler="mark"),  # written on create only
)
_SPEC = argument_spec(USER_PROPERTIES)
#: the option that names a user (its key)
KEY_OPTION = _SPEC.pop("user_principal_name")
#: the options of one user, without its key and without defaults (entries of users inherit them)
USER_OPTIONS = _SPEC
#: the rows compared with a user and written when they differ, in the order of the view
COMPARED = tuple(row for row in USER_PROPERTIES if row.writable)
USER_SELECT = select(USER_PROPERTIES, USER, always=("id", "userPrincipalName"))


def user_view(upn, user_id, properties):
    """A user as the module returns it: option names, not Graph names."""
    return view(USER_PROPERTIES, {USER: dict(properties, userPrincipalName=upn, id=user_id)})


def shown(properties):
    """The compared properties by option name, as the diff shows them."""
    return dict((row.option, properties.get(row.path)) for row in COMPARED)
