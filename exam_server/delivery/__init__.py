"""Delivering the exam: candidate login, the WebSocket protocol, the seq rule, checkpoints in
Redis, papers (each candidate's question and option order), events between workers, and the
write-behind that makes answers durable in PostgreSQL. See docs/protocol.md.

May import: ``exam_server.db``, ``exam_server.grading``, ``exam_server.settings``,
``exam_server.delivery.services`` and ``question_bank``.
"""
