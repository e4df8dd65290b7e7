"""The one conversion of a caller's time to an aware UTC datetime (crypt32 compares
certificate, CRL and OCSP times in UTC; a naive time is taken as UTC)."""

from __future__ import annotations

import datetime


def as_utc(when: datetime.datetime) -> datetime.datetime:
    """``when`` as an aware UTC datetime; a naive one is taken to be UTC already."""
    if when.tzinfo is None:
        return when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)
