"""The question bank as stored: questions and images in PostgreSQL (store) and the committee's
bank pages. Parsing and validation of question files is the pure ``question_bank`` package.

May import: ``exam_server.db``, ``exam_server.web``, ``exam_server.staff`` (audit) and
``question_bank``.
"""
