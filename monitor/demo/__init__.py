"""``monitor demo``: realistic generated prediction logs with drift and an accuracy drop."""

from __future__ import annotations
