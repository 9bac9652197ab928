"""``monitor run``: scheduler, leases, catch-up, signals and logs of the service."""

from __future__ import annotations
