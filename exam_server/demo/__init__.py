"""The demo: a ready exam, a session running now and demo candidates (``tkd demo``).

May import any part of ``exam_server`` except ``exam_server.cli``.
"""
