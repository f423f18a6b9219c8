"""Fixtures for the results tests: the committee tests' in-process app (app.py mounts the
results routes under /panitia and at the root) and their logged-in staff personas."""

from __future__ import annotations

from staff.conftest import admin, anonymous, app, cli, panitia, proctor, services, viewer

__all__ = ["admin", "anonymous", "app", "cli", "panitia", "proctor", "services", "viewer"]
