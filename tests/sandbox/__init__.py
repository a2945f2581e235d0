"""Local stand-in for Microsoft Entra ID (login + Microsoft Graph v1.0) and SmartTrace, over HTTPS.

Used by the integration tests, ``make demo`` and ``make bench``. Not shipped in the collection.
"""
