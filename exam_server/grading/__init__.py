"""Grading: scoring rules and ranking (pure), grading an attempt into results, and item
statistics (pure). See docs/scoring.md.

May import: ``exam_server.db``, ``exam_server.bank`` and ``question_bank``.
"""
