# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's version, for the User-Agent of its HTTP clients (kept equal to galaxy.yml by a unit test)."""

COLLECTION_VERSION = "0.1.0"
USER_AGENT = "smarttrace.sso/%s" % COLLECTION_VERSION
