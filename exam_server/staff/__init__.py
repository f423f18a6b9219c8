"""The committee's side (issue 5): staff accounts, candidates, exams, sessions, cards, dashboards.

Server-rendered pages under ``/panitia`` (Bahasa Indonesia first, English available), the
``tkd staff`` and ``tkd candidates`` commands, and an append-only audit log of every change
staff make. Pure logic (import parsing, spreading candidates over sessions, card layout)
lives in plain modules; the route modules are thin.
"""
